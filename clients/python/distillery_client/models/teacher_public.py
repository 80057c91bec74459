from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.teacher_public_input_dtype import TeacherPublicInputDtype
from ..models.teacher_public_output_kind import TeacherPublicOutputKind
from ..models.teacher_public_sandbox_type_0 import TeacherPublicSandboxType0
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.teacher_public_arch_config_type_0 import TeacherPublicArchConfigType0





T = TypeVar("T", bound="TeacherPublic")



@_attrs_define
class TeacherPublic:
    """ 
        Attributes:
            arch (None | str): safetensors teachers: the zoo architecture.
            arch_config (None | TeacherPublicArchConfigType0):
            created_at (datetime.datetime):
            format_ (str):
            id (str):
            input_shape (list[int]):
            name (str):
            num_classes (int):
            sha256 (str):
            size_bytes (int):
            fixed_batch_size (int | None | Unset): The teacher's graph was exported for this batch size only (no dynamic
                batch dimension); the service runs it in chunks of this size, padding the last one.
            input_dtype (TeacherPublicInputDtype | Unset): The element type the teacher takes; the student takes the same.
                Default: TeacherPublicInputDtype.FLOAT32.
            output (None | str | Unset): The output distilled from (an ONNX output name, or an index); null: the teacher's
                only output.
            output_kind (TeacherPublicOutputKind | Unset): What that output holds, as declared at upload or detected on its
                probe batches ('auto'). Probabilities become log-probabilities before the temperature is applied. Default:
                TeacherPublicOutputKind.LOGITS.
            sandbox (None | TeacherPublicSandboxType0 | Unset): How this server runs the teacher's code now (its upload
                check ran the same way): namespaces (the bubblewrap sandbox), rlimits-only (no bubblewrap: one user's own
                machine, a plain child process with memory, CPU and time limits), or unavailable (no sandbox: its jobs fail);
                Hugging Face teachers run there too. None for a safetensors teacher, which holds no code and is built from the
                zoo.
     """

    arch: None | str
    arch_config: None | TeacherPublicArchConfigType0
    created_at: datetime.datetime
    format_: str
    id: str
    input_shape: list[int]
    name: str
    num_classes: int
    sha256: str
    size_bytes: int
    fixed_batch_size: int | None | Unset = UNSET
    input_dtype: TeacherPublicInputDtype | Unset = TeacherPublicInputDtype.FLOAT32
    output: None | str | Unset = UNSET
    output_kind: TeacherPublicOutputKind | Unset = TeacherPublicOutputKind.LOGITS
    sandbox: None | TeacherPublicSandboxType0 | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.teacher_public_arch_config_type_0 import TeacherPublicArchConfigType0 # noqa: PLC0415
        arch: None | str
        arch = self.arch

        arch_config: dict[str, Any] | None
        if isinstance(self.arch_config, TeacherPublicArchConfigType0):
            arch_config = self.arch_config.to_dict()
        else:
            arch_config = self.arch_config

        created_at = self.created_at.isoformat()

        format_ = self.format_

        id = self.id

        input_shape = self.input_shape



        name = self.name

        num_classes = self.num_classes

        sha256 = self.sha256

        size_bytes = self.size_bytes

        fixed_batch_size: int | None | Unset
        if isinstance(self.fixed_batch_size, Unset):
            fixed_batch_size = UNSET
        else:
            fixed_batch_size = self.fixed_batch_size

        input_dtype: str | Unset = UNSET
        if not isinstance(self.input_dtype, Unset):
            input_dtype = self.input_dtype.value


        output: None | str | Unset
        if isinstance(self.output, Unset):
            output = UNSET
        else:
            output = self.output

        output_kind: str | Unset = UNSET
        if not isinstance(self.output_kind, Unset):
            output_kind = self.output_kind.value


        sandbox: None | str | Unset
        if isinstance(self.sandbox, Unset):
            sandbox = UNSET
        elif isinstance(self.sandbox, TeacherPublicSandboxType0):
            sandbox = self.sandbox.value
        else:
            sandbox = self.sandbox


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "arch": arch,
            "arch_config": arch_config,
            "created_at": created_at,
            "format": format_,
            "id": id,
            "input_shape": input_shape,
            "name": name,
            "num_classes": num_classes,
            "sha256": sha256,
            "size_bytes": size_bytes,
        })
        if fixed_batch_size is not UNSET:
            field_dict["fixed_batch_size"] = fixed_batch_size
        if input_dtype is not UNSET:
            field_dict["input_dtype"] = input_dtype
        if output is not UNSET:
            field_dict["output"] = output
        if output_kind is not UNSET:
            field_dict["output_kind"] = output_kind
        if sandbox is not UNSET:
            field_dict["sandbox"] = sandbox

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.teacher_public_arch_config_type_0 import TeacherPublicArchConfigType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_arch(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        arch = _parse_arch(d.pop("arch"))


        def _parse_arch_config(data: object) -> None | TeacherPublicArchConfigType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                arch_config_type_0 = TeacherPublicArchConfigType0.from_dict(data)



                return arch_config_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TeacherPublicArchConfigType0, data)

        arch_config = _parse_arch_config(d.pop("arch_config"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        format_ = d.pop("format")

        id = d.pop("id")

        input_shape = cast(list[int], d.pop("input_shape"))


        name = d.pop("name")

        num_classes = d.pop("num_classes")

        sha256 = d.pop("sha256")

        size_bytes = d.pop("size_bytes")

        def _parse_fixed_batch_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        fixed_batch_size = _parse_fixed_batch_size(d.pop("fixed_batch_size", UNSET))


        _input_dtype = d.pop("input_dtype", UNSET)
        input_dtype: TeacherPublicInputDtype | Unset
        if isinstance(_input_dtype,  Unset):
            input_dtype = UNSET
        else:
            input_dtype = TeacherPublicInputDtype(_input_dtype)




        def _parse_output(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output = _parse_output(d.pop("output", UNSET))


        _output_kind = d.pop("output_kind", UNSET)
        output_kind: TeacherPublicOutputKind | Unset
        if isinstance(_output_kind,  Unset):
            output_kind = UNSET
        else:
            output_kind = TeacherPublicOutputKind(_output_kind)




        def _parse_sandbox(data: object) -> None | TeacherPublicSandboxType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sandbox_type_0 = TeacherPublicSandboxType0(data)



                return sandbox_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TeacherPublicSandboxType0 | Unset, data)

        sandbox = _parse_sandbox(d.pop("sandbox", UNSET))


        teacher_public = cls(
            arch=arch,
            arch_config=arch_config,
            created_at=created_at,
            format_=format_,
            id=id,
            input_shape=input_shape,
            name=name,
            num_classes=num_classes,
            sha256=sha256,
            size_bytes=size_bytes,
            fixed_batch_size=fixed_batch_size,
            input_dtype=input_dtype,
            output=output,
            output_kind=output_kind,
            sandbox=sandbox,
        )


        teacher_public.additional_properties = d
        return teacher_public

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
