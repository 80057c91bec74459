from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_create_export_formats_item import JobCreateExportFormatsItem
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.budget import Budget
  from ..models.cnn_spec import CNNSpec
  from ..models.dist_config import DISTConfig
  from ..models.dkd_config import DKDConfig
  from ..models.embedding_bag_spec import EmbeddingBagSpec
  from ..models.kd_config import KDConfig
  from ..models.logit_matching_config import LogitMatchingConfig
  from ..models.mlp_spec import MLPSpec
  from ..models.sweep_spec import SweepSpec
  from ..models.text_bi_lstm_spec import TextBiLSTMSpec
  from ..models.text_transformer_spec import TextTransformerSpec
  from ..models.torchvision_spec import TorchvisionSpec





T = TypeVar("T", bound="JobCreate")



@_attrs_define
class JobCreate:
    """ 
        Attributes:
            teacher_ids (list[str]):
            transfer_set_id (str):
            baseline (bool | Unset): Also train the same student from scratch on labels alone. Default: False.
            bias_correction (bool | Unset): Raise the omitted classes' output biases on export. Default: False.
            budget (Budget | None | Unset): Bounds on the student's cost: the sweep's student is the most accurate member on
                validation within them (or, with none within, the nearest; result.budget says which). Needs sweep.students.
            export_formats (list[JobCreateExportFormatsItem] | Unset): Formats to export the student in (torchscript is
                deprecated by PyTorch 2.14 and kept for consumers that still read it). onnx_int8: the ONNX student quantized to
                8 bits (ONNX Runtime static quantization calibrated on transfer-set samples); its accuracy is in
                result.deployment. huggingface: a transformer text student as a zip that AutoModelForSequenceClassification and
                AutoTokenizer load (a text job's default is huggingface, onnx and safetensors).
            hyperparameters (DISTConfig | DKDConfig | KDConfig | LogitMatchingConfig | Unset):
            omit_classes (list[int] | Unset): Classes dropped from the transfer set.
            quantization_aware (bool | Unset): Fine-tune the distilled student under INT8 fake quantization (the rounding
                onnx_int8 will have), still distilling from the teacher, and make onnx_int8 from those weights;
                result.deployment.student_int8 then reports both it and the post-training quantization. Needs onnx_int8 among
                export_formats. Default: False.
            quantization_aware_epochs (int | Unset): With quantization_aware: the fine-tune's epochs, at a tenth of the
                job's learning rate. Default: 3.
            student (CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec | Unset):
                The student. With sweep.students it may be left out: it is then the first of them, and it must be one of them if
                given.
            student_init_weights (None | str | Unset): Start the student from these weights: the id of a safetensors network
                uploaded with POST /v1/teachers whose arch and arch_config match the student.
            sweep (None | SweepSpec | Unset): Train one member per combination in parallel; the best on validation is the
                student.
            validation_transfer_set_id (None | str | Unset): Validate on this set instead of a fraction of the transfer set.
            webhook_url (None | str | Unset): POST job.succeeded, job.failed and job.cancelled here, signed as Standard
                Webhooks says with the webhook_secret that the response creating the job shows once.
     """

    teacher_ids: list[str]
    transfer_set_id: str
    baseline: bool | Unset = False
    bias_correction: bool | Unset = False
    budget: Budget | None | Unset = UNSET
    export_formats: list[JobCreateExportFormatsItem] | Unset = UNSET
    hyperparameters: DISTConfig | DKDConfig | KDConfig | LogitMatchingConfig | Unset = UNSET
    omit_classes: list[int] | Unset = UNSET
    quantization_aware: bool | Unset = False
    quantization_aware_epochs: int | Unset = 3
    student: CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec | Unset = UNSET
    student_init_weights: None | str | Unset = UNSET
    sweep: None | SweepSpec | Unset = UNSET
    validation_transfer_set_id: None | str | Unset = UNSET
    webhook_url: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.budget import Budget # noqa: PLC0415
        from ..models.cnn_spec import CNNSpec # noqa: PLC0415
        from ..models.dist_config import DISTConfig # noqa: PLC0415
        from ..models.dkd_config import DKDConfig # noqa: PLC0415
        from ..models.embedding_bag_spec import EmbeddingBagSpec # noqa: PLC0415
        from ..models.kd_config import KDConfig # noqa: PLC0415
        from ..models.logit_matching_config import LogitMatchingConfig # noqa: PLC0415
        from ..models.mlp_spec import MLPSpec # noqa: PLC0415
        from ..models.sweep_spec import SweepSpec # noqa: PLC0415
        from ..models.text_bi_lstm_spec import TextBiLSTMSpec # noqa: PLC0415
        from ..models.text_transformer_spec import TextTransformerSpec # noqa: PLC0415
        from ..models.torchvision_spec import TorchvisionSpec # noqa: PLC0415
        teacher_ids = self.teacher_ids



        transfer_set_id = self.transfer_set_id

        baseline = self.baseline

        bias_correction = self.bias_correction

        budget: dict[str, Any] | None | Unset
        if isinstance(self.budget, Unset):
            budget = UNSET
        elif isinstance(self.budget, Budget):
            budget = self.budget.to_dict()
        else:
            budget = self.budget

        export_formats: list[str] | Unset = UNSET
        if not isinstance(self.export_formats, Unset):
            export_formats = []
            for export_formats_item_data in self.export_formats:
                export_formats_item = export_formats_item_data.value
                export_formats.append(export_formats_item)



        hyperparameters: dict[str, Any] | Unset
        if isinstance(self.hyperparameters, Unset):
            hyperparameters = UNSET
        elif isinstance(self.hyperparameters, KDConfig):
            hyperparameters = self.hyperparameters.to_dict()
        elif isinstance(self.hyperparameters, LogitMatchingConfig):
            hyperparameters = self.hyperparameters.to_dict()
        elif isinstance(self.hyperparameters, DKDConfig):
            hyperparameters = self.hyperparameters.to_dict()
        else:
            hyperparameters = self.hyperparameters.to_dict()


        omit_classes: list[int] | Unset = UNSET
        if not isinstance(self.omit_classes, Unset):
            omit_classes = self.omit_classes



        quantization_aware = self.quantization_aware

        quantization_aware_epochs = self.quantization_aware_epochs

        student: dict[str, Any] | Unset
        if isinstance(self.student, Unset):
            student = UNSET
        elif isinstance(self.student, MLPSpec):
            student = self.student.to_dict()
        elif isinstance(self.student, CNNSpec):
            student = self.student.to_dict()
        elif isinstance(self.student, TorchvisionSpec):
            student = self.student.to_dict()
        elif isinstance(self.student, EmbeddingBagSpec):
            student = self.student.to_dict()
        elif isinstance(self.student, TextTransformerSpec):
            student = self.student.to_dict()
        else:
            student = self.student.to_dict()


        student_init_weights: None | str | Unset
        if isinstance(self.student_init_weights, Unset):
            student_init_weights = UNSET
        else:
            student_init_weights = self.student_init_weights

        sweep: dict[str, Any] | None | Unset
        if isinstance(self.sweep, Unset):
            sweep = UNSET
        elif isinstance(self.sweep, SweepSpec):
            sweep = self.sweep.to_dict()
        else:
            sweep = self.sweep

        validation_transfer_set_id: None | str | Unset
        if isinstance(self.validation_transfer_set_id, Unset):
            validation_transfer_set_id = UNSET
        else:
            validation_transfer_set_id = self.validation_transfer_set_id

        webhook_url: None | str | Unset
        if isinstance(self.webhook_url, Unset):
            webhook_url = UNSET
        else:
            webhook_url = self.webhook_url


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "teacher_ids": teacher_ids,
            "transfer_set_id": transfer_set_id,
        })
        if baseline is not UNSET:
            field_dict["baseline"] = baseline
        if bias_correction is not UNSET:
            field_dict["bias_correction"] = bias_correction
        if budget is not UNSET:
            field_dict["budget"] = budget
        if export_formats is not UNSET:
            field_dict["export_formats"] = export_formats
        if hyperparameters is not UNSET:
            field_dict["hyperparameters"] = hyperparameters
        if omit_classes is not UNSET:
            field_dict["omit_classes"] = omit_classes
        if quantization_aware is not UNSET:
            field_dict["quantization_aware"] = quantization_aware
        if quantization_aware_epochs is not UNSET:
            field_dict["quantization_aware_epochs"] = quantization_aware_epochs
        if student is not UNSET:
            field_dict["student"] = student
        if student_init_weights is not UNSET:
            field_dict["student_init_weights"] = student_init_weights
        if sweep is not UNSET:
            field_dict["sweep"] = sweep
        if validation_transfer_set_id is not UNSET:
            field_dict["validation_transfer_set_id"] = validation_transfer_set_id
        if webhook_url is not UNSET:
            field_dict["webhook_url"] = webhook_url

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget import Budget # noqa: PLC0415
        from ..models.cnn_spec import CNNSpec # noqa: PLC0415
        from ..models.dist_config import DISTConfig # noqa: PLC0415
        from ..models.dkd_config import DKDConfig # noqa: PLC0415
        from ..models.embedding_bag_spec import EmbeddingBagSpec # noqa: PLC0415
        from ..models.kd_config import KDConfig # noqa: PLC0415
        from ..models.logit_matching_config import LogitMatchingConfig # noqa: PLC0415
        from ..models.mlp_spec import MLPSpec # noqa: PLC0415
        from ..models.sweep_spec import SweepSpec # noqa: PLC0415
        from ..models.text_bi_lstm_spec import TextBiLSTMSpec # noqa: PLC0415
        from ..models.text_transformer_spec import TextTransformerSpec # noqa: PLC0415
        from ..models.torchvision_spec import TorchvisionSpec # noqa: PLC0415
        d = dict(src_dict)
        teacher_ids = cast(list[str], d.pop("teacher_ids"))


        transfer_set_id = d.pop("transfer_set_id")

        baseline = d.pop("baseline", UNSET)

        bias_correction = d.pop("bias_correction", UNSET)

        def _parse_budget(data: object) -> Budget | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                budget_type_0 = Budget.from_dict(data)



                return budget_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Budget | None | Unset, data)

        budget = _parse_budget(d.pop("budget", UNSET))


        _export_formats = d.pop("export_formats", UNSET)
        export_formats: list[JobCreateExportFormatsItem] | Unset = UNSET
        if _export_formats is not UNSET:
            export_formats = []
            for export_formats_item_data in _export_formats:
                export_formats_item = JobCreateExportFormatsItem(export_formats_item_data)



                export_formats.append(export_formats_item)


        def _parse_hyperparameters(data: object) -> DISTConfig | DKDConfig | KDConfig | LogitMatchingConfig | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                hyperparameters_type_0 = KDConfig.from_dict(data)



                return hyperparameters_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                hyperparameters_type_1 = LogitMatchingConfig.from_dict(data)



                return hyperparameters_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                hyperparameters_type_2 = DKDConfig.from_dict(data)



                return hyperparameters_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            hyperparameters_type_3 = DISTConfig.from_dict(data)



            return hyperparameters_type_3

        hyperparameters = _parse_hyperparameters(d.pop("hyperparameters", UNSET))


        omit_classes = cast(list[int], d.pop("omit_classes", UNSET))


        quantization_aware = d.pop("quantization_aware", UNSET)

        quantization_aware_epochs = d.pop("quantization_aware_epochs", UNSET)

        def _parse_student(data: object) -> CNNSpec | EmbeddingBagSpec | MLPSpec | TextBiLSTMSpec | TextTransformerSpec | TorchvisionSpec | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_type_0 = MLPSpec.from_dict(data)



                return student_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_type_1 = CNNSpec.from_dict(data)



                return student_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_type_2 = TorchvisionSpec.from_dict(data)



                return student_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_type_3 = EmbeddingBagSpec.from_dict(data)



                return student_type_3
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_type_4 = TextTransformerSpec.from_dict(data)



                return student_type_4
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            student_type_5 = TextBiLSTMSpec.from_dict(data)



            return student_type_5

        student = _parse_student(d.pop("student", UNSET))


        def _parse_student_init_weights(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        student_init_weights = _parse_student_init_weights(d.pop("student_init_weights", UNSET))


        def _parse_sweep(data: object) -> None | SweepSpec | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sweep_type_0 = SweepSpec.from_dict(data)



                return sweep_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SweepSpec | Unset, data)

        sweep = _parse_sweep(d.pop("sweep", UNSET))


        def _parse_validation_transfer_set_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        validation_transfer_set_id = _parse_validation_transfer_set_id(d.pop("validation_transfer_set_id", UNSET))


        def _parse_webhook_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        webhook_url = _parse_webhook_url(d.pop("webhook_url", UNSET))


        job_create = cls(
            teacher_ids=teacher_ids,
            transfer_set_id=transfer_set_id,
            baseline=baseline,
            bias_correction=bias_correction,
            budget=budget,
            export_formats=export_formats,
            hyperparameters=hyperparameters,
            omit_classes=omit_classes,
            quantization_aware=quantization_aware,
            quantization_aware_epochs=quantization_aware_epochs,
            student=student,
            student_init_weights=student_init_weights,
            sweep=sweep,
            validation_transfer_set_id=validation_transfer_set_id,
            webhook_url=webhook_url,
        )

        return job_create

