from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field
import json
from .. import types

from ..types import UNSET, Unset

from ..types import File, FileTypes
from ..types import UNSET, Unset
from io import BytesIO
from typing import cast






T = TypeVar("T", bound="BodyCreateTeacher")



@_attrs_define
class BodyCreateTeacher:
    """ 
        Attributes:
            file (File): The teacher network.
            input_shape (str): JSON list: one sample's shape, e.g. [64].
            name (str):
            arch (None | str | Unset): safetensors only: the zoo architecture of the state dict.
            arch_config (None | str | Unset): safetensors only: JSON, e.g. {"num_classes": 10, "hidden_sizes": [256]}.
            format_ (str | Unset): One of: torchscript, exported_program, onnx, safetensors. Default: 'torchscript'.
     """

    file: File
    input_shape: str
    name: str
    arch: None | str | Unset = UNSET
    arch_config: None | str | Unset = UNSET
    format_: str | Unset = 'torchscript'
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        input_shape = self.input_shape

        name = self.name

        arch: None | str | Unset
        if isinstance(self.arch, Unset):
            arch = UNSET
        else:
            arch = self.arch

        arch_config: None | str | Unset
        if isinstance(self.arch_config, Unset):
            arch_config = UNSET
        else:
            arch_config = self.arch_config

        format_ = self.format_


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
            "input_shape": input_shape,
            "name": name,
        })
        if arch is not UNSET:
            field_dict["arch"] = arch
        if arch_config is not UNSET:
            field_dict["arch_config"] = arch_config
        if format_ is not UNSET:
            field_dict["format"] = format_

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        files.append(("input_shape", (None, str(self.input_shape).encode(), "text/plain")))



        files.append(("name", (None, str(self.name).encode(), "text/plain")))



        if not isinstance(self.arch, Unset):
            if isinstance(self.arch, str):

                files.append(("arch", (None, str(self.arch).encode(), "text/plain")))
            else:
                files.append(("arch", (None, str(self.arch).encode(), "text/plain")))


        if not isinstance(self.arch_config, Unset):
            if isinstance(self.arch_config, str):

                files.append(("arch_config", (None, str(self.arch_config).encode(), "text/plain")))
            else:
                files.append(("arch_config", (None, str(self.arch_config).encode(), "text/plain")))


        if not isinstance(self.format_, Unset):
            files.append(("format", (None, str(self.format_).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




        input_shape = d.pop("input_shape")

        name = d.pop("name")

        def _parse_arch(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        arch = _parse_arch(d.pop("arch", UNSET))


        def _parse_arch_config(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        arch_config = _parse_arch_config(d.pop("arch_config", UNSET))


        format_ = d.pop("format", UNSET)

        body_create_teacher = cls(
            file=file,
            input_shape=input_shape,
            name=name,
            arch=arch,
            arch_config=arch_config,
            format_=format_,
        )


        body_create_teacher.additional_properties = d
        return body_create_teacher

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
