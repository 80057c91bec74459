from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.event_public_data_type_0 import EventPublicDataType0





T = TypeVar("T", bound="EventPublic")



@_attrs_define
class EventPublic:
    """ 
        Attributes:
            created_at (datetime.datetime):
            data (EventPublicDataType0 | None):
            id (int):
            message (str):
            type_ (str):
     """

    created_at: datetime.datetime
    data: EventPublicDataType0 | None
    id: int
    message: str
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.event_public_data_type_0 import EventPublicDataType0 # noqa: PLC0415
        created_at = self.created_at.isoformat()

        data: dict[str, Any] | None
        if isinstance(self.data, EventPublicDataType0):
            data = self.data.to_dict()
        else:
            data = self.data

        id = self.id

        message = self.message

        type_ = self.type_


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "data": data,
            "id": id,
            "message": message,
            "type": type_,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_public_data_type_0 import EventPublicDataType0 # noqa: PLC0415
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_data(data: object) -> EventPublicDataType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                data_type_0 = EventPublicDataType0.from_dict(data)



                return data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EventPublicDataType0 | None, data)

        data = _parse_data(d.pop("data"))


        id = d.pop("id")

        message = d.pop("message")

        type_ = d.pop("type")

        event_public = cls(
            created_at=created_at,
            data=data,
            id=id,
            message=message,
            type_=type_,
        )


        event_public.additional_properties = d
        return event_public

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
