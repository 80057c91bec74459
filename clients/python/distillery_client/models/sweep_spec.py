from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.cnn_spec import CNNSpec
  from ..models.embedding_bag_spec import EmbeddingBagSpec
  from ..models.mlp_spec import MLPSpec
  from ..models.text_bi_lstm_spec import TextBiLSTMSpec
  from ..models.text_transformer_spec import TextTransformerSpec
  from ..models.torchvision_spec import TorchvisionSpec





T = TypeVar("T", bound="SweepSpec")



@_attrs_define
class SweepSpec:
    """ A grid over the loss settings; every combination is one member, trained on the same cached
    teacher outputs. Its axes are the shared weights and temperature and every method's own numeric
    parameters (a member must be of a method that has the parameter).

        Attributes:
            alpha (list[float] | None | Unset): Values of alpha (loss 'dkd').
            beta (list[float] | None | Unset): Values of beta (loss 'dkd').
            hard_weight (list[float] | None | Unset):
            inter_weight (list[float] | None | Unset): Values of inter_weight (loss 'dist').
            intra_weight (list[float] | None | Unset): Values of intra_weight (loss 'dist').
            soft_weight (list[float] | None | Unset):
            students (list[CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec] |
                None | Unset): Students to train, each member its own (crossed with the other axes); with a job budget, the most
                accurate within it is the student.
            temperature (list[float] | None | Unset): Temperatures to try, e.g. [1, 2, 5].
     """

    alpha: list[float] | None | Unset = UNSET
    beta: list[float] | None | Unset = UNSET
    hard_weight: list[float] | None | Unset = UNSET
    inter_weight: list[float] | None | Unset = UNSET
    intra_weight: list[float] | None | Unset = UNSET
    soft_weight: list[float] | None | Unset = UNSET
    students: list[CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec] | None | Unset = UNSET
    temperature: list[float] | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.cnn_spec import CNNSpec # noqa: PLC0415
        from ..models.embedding_bag_spec import EmbeddingBagSpec # noqa: PLC0415
        from ..models.mlp_spec import MLPSpec # noqa: PLC0415
        from ..models.text_bi_lstm_spec import TextBiLSTMSpec # noqa: PLC0415
        from ..models.text_transformer_spec import TextTransformerSpec # noqa: PLC0415
        from ..models.torchvision_spec import TorchvisionSpec # noqa: PLC0415
        alpha: list[float] | None | Unset
        if isinstance(self.alpha, Unset):
            alpha = UNSET
        elif isinstance(self.alpha, list):
            alpha = self.alpha


        else:
            alpha = self.alpha

        beta: list[float] | None | Unset
        if isinstance(self.beta, Unset):
            beta = UNSET
        elif isinstance(self.beta, list):
            beta = self.beta


        else:
            beta = self.beta

        hard_weight: list[float] | None | Unset
        if isinstance(self.hard_weight, Unset):
            hard_weight = UNSET
        elif isinstance(self.hard_weight, list):
            hard_weight = self.hard_weight


        else:
            hard_weight = self.hard_weight

        inter_weight: list[float] | None | Unset
        if isinstance(self.inter_weight, Unset):
            inter_weight = UNSET
        elif isinstance(self.inter_weight, list):
            inter_weight = self.inter_weight


        else:
            inter_weight = self.inter_weight

        intra_weight: list[float] | None | Unset
        if isinstance(self.intra_weight, Unset):
            intra_weight = UNSET
        elif isinstance(self.intra_weight, list):
            intra_weight = self.intra_weight


        else:
            intra_weight = self.intra_weight

        soft_weight: list[float] | None | Unset
        if isinstance(self.soft_weight, Unset):
            soft_weight = UNSET
        elif isinstance(self.soft_weight, list):
            soft_weight = self.soft_weight


        else:
            soft_weight = self.soft_weight

        students: list[dict[str, Any]] | None | Unset
        if isinstance(self.students, Unset):
            students = UNSET
        elif isinstance(self.students, list):
            students = []
            for students_type_0_item_data in self.students:
                students_type_0_item: dict[str, Any]
                if isinstance(students_type_0_item_data, MLPSpec):
                    students_type_0_item = students_type_0_item_data.to_dict()
                elif isinstance(students_type_0_item_data, CNNSpec):
                    students_type_0_item = students_type_0_item_data.to_dict()
                elif isinstance(students_type_0_item_data, TorchvisionSpec):
                    students_type_0_item = students_type_0_item_data.to_dict()
                elif isinstance(students_type_0_item_data, EmbeddingBagSpec):
                    students_type_0_item = students_type_0_item_data.to_dict()
                elif isinstance(students_type_0_item_data, TextTransformerSpec):
                    students_type_0_item = students_type_0_item_data.to_dict()
                else:
                    students_type_0_item = students_type_0_item_data.to_dict()

                students.append(students_type_0_item)


        else:
            students = self.students

        temperature: list[float] | None | Unset
        if isinstance(self.temperature, Unset):
            temperature = UNSET
        elif isinstance(self.temperature, list):
            temperature = self.temperature


        else:
            temperature = self.temperature


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if alpha is not UNSET:
            field_dict["alpha"] = alpha
        if beta is not UNSET:
            field_dict["beta"] = beta
        if hard_weight is not UNSET:
            field_dict["hard_weight"] = hard_weight
        if inter_weight is not UNSET:
            field_dict["inter_weight"] = inter_weight
        if intra_weight is not UNSET:
            field_dict["intra_weight"] = intra_weight
        if soft_weight is not UNSET:
            field_dict["soft_weight"] = soft_weight
        if students is not UNSET:
            field_dict["students"] = students
        if temperature is not UNSET:
            field_dict["temperature"] = temperature

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cnn_spec import CNNSpec # noqa: PLC0415
        from ..models.embedding_bag_spec import EmbeddingBagSpec # noqa: PLC0415
        from ..models.mlp_spec import MLPSpec # noqa: PLC0415
        from ..models.text_bi_lstm_spec import TextBiLSTMSpec # noqa: PLC0415
        from ..models.text_transformer_spec import TextTransformerSpec # noqa: PLC0415
        from ..models.torchvision_spec import TorchvisionSpec # noqa: PLC0415
        d = dict(src_dict)
        def _parse_alpha(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                alpha_type_0 = cast(list[float], data)

                return alpha_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        alpha = _parse_alpha(d.pop("alpha", UNSET))


        def _parse_beta(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                beta_type_0 = cast(list[float], data)

                return beta_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        beta = _parse_beta(d.pop("beta", UNSET))


        def _parse_hard_weight(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                hard_weight_type_0 = cast(list[float], data)

                return hard_weight_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        hard_weight = _parse_hard_weight(d.pop("hard_weight", UNSET))


        def _parse_inter_weight(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                inter_weight_type_0 = cast(list[float], data)

                return inter_weight_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        inter_weight = _parse_inter_weight(d.pop("inter_weight", UNSET))


        def _parse_intra_weight(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                intra_weight_type_0 = cast(list[float], data)

                return intra_weight_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        intra_weight = _parse_intra_weight(d.pop("intra_weight", UNSET))


        def _parse_soft_weight(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                soft_weight_type_0 = cast(list[float], data)

                return soft_weight_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        soft_weight = _parse_soft_weight(d.pop("soft_weight", UNSET))


        def _parse_students(data: object) -> list[CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                students_type_0 = []
                _students_type_0 = data
                for students_type_0_item_data in (_students_type_0):
                    def _parse_students_type_0_item(data: object) -> CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec:
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            students_type_0_item_type_0 = MLPSpec.from_dict(data)



                            return students_type_0_item_type_0
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            students_type_0_item_type_1 = CNNSpec.from_dict(data)



                            return students_type_0_item_type_1
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            students_type_0_item_type_2 = TorchvisionSpec.from_dict(data)



                            return students_type_0_item_type_2
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            students_type_0_item_type_3 = EmbeddingBagSpec.from_dict(data)



                            return students_type_0_item_type_3
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        try:
                            if not isinstance(data, dict):
                                raise TypeError()
                            students_type_0_item_type_4 = TextTransformerSpec.from_dict(data)



                            return students_type_0_item_type_4
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        if not isinstance(data, dict):
                            raise TypeError()
                        students_type_0_item_type_5 = TextBiLSTMSpec.from_dict(data)



                        return students_type_0_item_type_5

                    students_type_0_item = _parse_students_type_0_item(students_type_0_item_data)

                    students_type_0.append(students_type_0_item)

                return students_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec] | None | Unset, data)

        students = _parse_students(d.pop("students", UNSET))


        def _parse_temperature(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                temperature_type_0 = cast(list[float], data)

                return temperature_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        temperature = _parse_temperature(d.pop("temperature", UNSET))


        sweep_spec = cls(
            alpha=alpha,
            beta=beta,
            hard_weight=hard_weight,
            inter_weight=inter_weight,
            intra_weight=intra_weight,
            soft_weight=soft_weight,
            students=students,
            temperature=temperature,
        )

        return sweep_spec

