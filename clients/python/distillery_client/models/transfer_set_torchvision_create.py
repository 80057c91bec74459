from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.transfer_set_torchvision_create_dataset import TransferSetTorchvisionCreateDataset
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast

if TYPE_CHECKING:
  from ..models.preprocessing import Preprocessing





T = TypeVar("T", bound="TransferSetTorchvisionCreate")



@_attrs_define
class TransferSetTorchvisionCreate:
    """ A torchvision dataset already on the data volume (``download=False``); its own test split is used.

        Attributes:
            dataset (TransferSetTorchvisionCreateDataset):
            kind (Literal['torchvision']):
            name (str):
            root (str): The dataset's root, inside a data root.
            labelled (bool | Unset):  Default: True.
            preprocessing (Preprocessing | Unset): Applied in this order: color, resize, center_crop, to-tensor (values in
                [0, 1]), normalize.
     """

    dataset: TransferSetTorchvisionCreateDataset
    kind: Literal['torchvision']
    name: str
    root: str
    labelled: bool | Unset = True
    preprocessing: Preprocessing | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.preprocessing import Preprocessing # noqa: PLC0415
        dataset = self.dataset.value

        kind = self.kind

        name = self.name

        root = self.root

        labelled = self.labelled

        preprocessing: dict[str, Any] | Unset = UNSET
        if not isinstance(self.preprocessing, Unset):
            preprocessing = self.preprocessing.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "dataset": dataset,
            "kind": kind,
            "name": name,
            "root": root,
        })
        if labelled is not UNSET:
            field_dict["labelled"] = labelled
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.preprocessing import Preprocessing # noqa: PLC0415
        d = dict(src_dict)
        dataset = TransferSetTorchvisionCreateDataset(d.pop("dataset"))




        kind = cast(Literal['torchvision'] , d.pop("kind"))
        if kind != 'torchvision':
            raise ValueError(f"kind must match const 'torchvision', got '{kind}'")

        name = d.pop("name")

        root = d.pop("root")

        labelled = d.pop("labelled", UNSET)

        _preprocessing = d.pop("preprocessing", UNSET)
        preprocessing: Preprocessing | Unset
        if isinstance(_preprocessing,  Unset):
            preprocessing = UNSET
        else:
            preprocessing = Preprocessing.from_dict(_preprocessing)




        transfer_set_torchvision_create = cls(
            dataset=dataset,
            kind=kind,
            name=name,
            root=root,
            labelled=labelled,
            preprocessing=preprocessing,
        )

        return transfer_set_torchvision_create

