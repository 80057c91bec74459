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
            name (str):
            arch (None | str | Unset): safetensors only: the zoo architecture of the state dict.
            arch_config (None | str | Unset): safetensors only: JSON, e.g. {"num_classes": 10, "hidden_sizes": [256]}.
            format_ (str | Unset): One of: torchscript, exported_program, onnx, safetensors, huggingface. Default:
                'torchscript'.
            input_dtype (str | Unset): One of: float32, float16, int64, int32, bool: what the teacher takes (int64 for token
                or category ids). Default: 'float32'.
            input_shape (None | str | Unset): JSON list: one sample's shape, e.g. [64]. Required, except for huggingface
                (token ids [max_length]).
            max_length (None | str | Unset): huggingface only: max_length: the token ids a text is cut to (default: the
                tokenizer's model_max_length, at most 512).
            output (None | str | Unset): The output to distil from: its ONNX name (e.g. 'probabilities') or its index.
                Default: the one float output shaped [batch, classes].
            output_kind (str | Unset): One of: auto, logits, probabilities, log_probabilities. 'auto' decides from the probe
                batches (rows that are distributions are probabilities). Default: 'auto'.
     """

    file: File
    name: str
    arch: None | str | Unset = UNSET
    arch_config: None | str | Unset = UNSET
    format_: str | Unset = 'torchscript'
    input_dtype: str | Unset = 'float32'
    input_shape: None | str | Unset = UNSET
    max_length: None | str | Unset = UNSET
    output: None | str | Unset = UNSET
    output_kind: str | Unset = 'auto'
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


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

        input_dtype = self.input_dtype

        input_shape: None | str | Unset
        if isinstance(self.input_shape, Unset):
            input_shape = UNSET
        else:
            input_shape = self.input_shape

        max_length: None | str | Unset
        if isinstance(self.max_length, Unset):
            max_length = UNSET
        else:
            max_length = self.max_length

        output: None | str | Unset
        if isinstance(self.output, Unset):
            output = UNSET
        else:
            output = self.output

        output_kind = self.output_kind


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
            "name": name,
        })
        if arch is not UNSET:
            field_dict["arch"] = arch
        if arch_config is not UNSET:
            field_dict["arch_config"] = arch_config
        if format_ is not UNSET:
            field_dict["format"] = format_
        if input_dtype is not UNSET:
            field_dict["input_dtype"] = input_dtype
        if input_shape is not UNSET:
            field_dict["input_shape"] = input_shape
        if max_length is not UNSET:
            field_dict["max_length"] = max_length
        if output is not UNSET:
            field_dict["output"] = output
        if output_kind is not UNSET:
            field_dict["output_kind"] = output_kind

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



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



        if not isinstance(self.input_dtype, Unset):
            files.append(("input_dtype", (None, str(self.input_dtype).encode(), "text/plain")))



        if not isinstance(self.input_shape, Unset):
            if isinstance(self.input_shape, str):

                files.append(("input_shape", (None, str(self.input_shape).encode(), "text/plain")))
            else:
                files.append(("input_shape", (None, str(self.input_shape).encode(), "text/plain")))


        if not isinstance(self.max_length, Unset):
            if isinstance(self.max_length, str):

                files.append(("max_length", (None, str(self.max_length).encode(), "text/plain")))
            else:
                files.append(("max_length", (None, str(self.max_length).encode(), "text/plain")))


        if not isinstance(self.output, Unset):
            if isinstance(self.output, str):

                files.append(("output", (None, str(self.output).encode(), "text/plain")))
            else:
                files.append(("output", (None, str(self.output).encode(), "text/plain")))


        if not isinstance(self.output_kind, Unset):
            files.append(("output_kind", (None, str(self.output_kind).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




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

        input_dtype = d.pop("input_dtype", UNSET)

        def _parse_input_shape(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        input_shape = _parse_input_shape(d.pop("input_shape", UNSET))


        def _parse_max_length(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        max_length = _parse_max_length(d.pop("max_length", UNSET))


        def _parse_output(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output = _parse_output(d.pop("output", UNSET))


        output_kind = d.pop("output_kind", UNSET)

        body_create_teacher = cls(
            file=file,
            name=name,
            arch=arch,
            arch_config=arch_config,
            format_=format_,
            input_dtype=input_dtype,
            input_shape=input_shape,
            max_length=max_length,
            output=output,
            output_kind=output_kind,
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
