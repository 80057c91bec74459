""" Contains all the data models used in inputs/outputs """

from .augmentation import Augmentation
from .body_create_teacher import BodyCreateTeacher
from .budget import Budget
from .budget_bounds import BudgetBounds
from .budget_outcome import BudgetOutcome
from .cnn_spec import CNNSpec
from .cnn_spec_activation import CNNSpecActivation
from .create_transfer_set_files_body import CreateTransferSetFilesBody
from .create_transfer_set_files_body_kind import CreateTransferSetFilesBodyKind
from .delivery_status import DeliveryStatus
from .deployment_report import DeploymentReport
from .dist_config import DISTConfig
from .dist_config_device import DISTConfigDevice
from .dist_config_ensemble import DISTConfigEnsemble
from .dist_config_optimizer import DISTConfigOptimizer
from .dist_config_precision import DISTConfigPrecision
from .dist_config_schedule import DISTConfigSchedule
from .dist_config_soft_weight_type_1 import DISTConfigSoftWeightType1
from .dist_config_temperature_method import DISTConfigTemperatureMethod
from .dist_config_temperature_type_1 import DISTConfigTemperatureType1
from .dkd_config import DKDConfig
from .dkd_config_device import DKDConfigDevice
from .dkd_config_ensemble import DKDConfigEnsemble
from .dkd_config_optimizer import DKDConfigOptimizer
from .dkd_config_precision import DKDConfigPrecision
from .dkd_config_schedule import DKDConfigSchedule
from .dkd_config_soft_weight_type_1 import DKDConfigSoftWeightType1
from .dkd_config_temperature_method import DKDConfigTemperatureMethod
from .dkd_config_temperature_type_1 import DKDConfigTemperatureType1
from .embedding_bag_spec import EmbeddingBagSpec
from .embedding_bag_spec_activation import EmbeddingBagSpecActivation
from .embedding_bag_spec_mode import EmbeddingBagSpecMode
from .evaluation_report import EvaluationReport
from .evaluation_report_per_class_errors_type_0 import EvaluationReportPerClassErrorsType0
from .event_list import EventList
from .event_public import EventPublic
from .event_public_data_type_0 import EventPublicDataType0
from .export_info import ExportInfo
from .health import Health
from .int_8_cost import Int8Cost
from .int_8_cost_export_sizes_type_0 import Int8CostExportSizesType0
from .job_create import JobCreate
from .job_create_export_formats_item import JobCreateExportFormatsItem
from .job_list import JobList
from .job_metrics import JobMetrics
from .job_public import JobPublic
from .job_public_budget_type_0 import JobPublicBudgetType0
from .job_public_hyperparameters import JobPublicHyperparameters
from .job_public_student import JobPublicStudent
from .job_public_sweep_type_0 import JobPublicSweepType0
from .job_result import JobResult
from .job_result_exports_type_0 import JobResultExportsType0
from .job_status import JobStatus
from .kd_config import KDConfig
from .kd_config_device import KDConfigDevice
from .kd_config_ensemble import KDConfigEnsemble
from .kd_config_optimizer import KDConfigOptimizer
from .kd_config_precision import KDConfigPrecision
from .kd_config_schedule import KDConfigSchedule
from .kd_config_soft_weight_type_1 import KDConfigSoftWeightType1
from .kd_config_temperature_method import KDConfigTemperatureMethod
from .kd_config_temperature_type_1 import KDConfigTemperatureType1
from .logit_matching_config import LogitMatchingConfig
from .logit_matching_config_device import LogitMatchingConfigDevice
from .logit_matching_config_ensemble import LogitMatchingConfigEnsemble
from .logit_matching_config_optimizer import LogitMatchingConfigOptimizer
from .logit_matching_config_precision import LogitMatchingConfigPrecision
from .logit_matching_config_schedule import LogitMatchingConfigSchedule
from .logit_matching_config_soft_weight_type_1 import LogitMatchingConfigSoftWeightType1
from .logit_matching_config_temperature_method import LogitMatchingConfigTemperatureMethod
from .logit_matching_config_temperature_type_1 import LogitMatchingConfigTemperatureType1
from .metric_point import MetricPoint
from .mlp_spec import MLPSpec
from .mlp_spec_activation import MLPSpecActivation
from .network_cost import NetworkCost
from .network_cost_export_sizes_type_0 import NetworkCostExportSizesType0
from .normalize import Normalize
from .post_training_answers import PostTrainingAnswers
from .preprocessing import Preprocessing
from .preprocessing_color_type_0 import PreprocessingColorType0
from .problem_detail import ProblemDetail
from .problem_detail_errors_type_0_item import ProblemDetailErrorsType0Item
from .progress import Progress
from .quantization_aware_answers import QuantizationAwareAnswers
from .run_metrics import RunMetrics
from .run_metrics_metrics import RunMetricsMetrics
from .run_metrics_result_type_0 import RunMetricsResultType0
from .run_result import RunResult
from .run_result_per_class_errors_type_0 import RunResultPerClassErrorsType0
from .sweep_row import SweepRow
from .sweep_spec import SweepSpec
from .teacher_list import TeacherList
from .teacher_public import TeacherPublic
from .teacher_public_arch_config_type_0 import TeacherPublicArchConfigType0
from .teacher_public_input_dtype import TeacherPublicInputDtype
from .teacher_public_output_kind import TeacherPublicOutputKind
from .teacher_public_sandbox_type_0 import TeacherPublicSandboxType0
from .temperature_candidate import TemperatureCandidate
from .temperature_search import TemperatureSearch
from .text_bi_lstm_spec import TextBiLSTMSpec
from .text_transformer_spec import TextTransformerSpec
from .text_transformer_spec_init import TextTransformerSpecInit
from .torchvision_spec import TorchvisionSpec
from .torchvision_spec_arch import TorchvisionSpecArch
from .transfer_set_builtin_create import TransferSetBuiltinCreate
from .transfer_set_image_folder_create import TransferSetImageFolderCreate
from .transfer_set_list import TransferSetList
from .transfer_set_public import TransferSetPublic
from .transfer_set_public_dtype import TransferSetPublicDtype
from .transfer_set_public_kind import TransferSetPublicKind
from .transfer_set_public_spec_type_0 import TransferSetPublicSpecType0
from .transfer_set_torchvision_create import TransferSetTorchvisionCreate
from .transfer_set_torchvision_create_dataset import TransferSetTorchvisionCreateDataset
from .webhook_attempt import WebhookAttempt
from .webhook_delivery_list import WebhookDeliveryList
from .webhook_delivery_public import WebhookDeliveryPublic
from .webhook_endpoint_create import WebhookEndpointCreate
from .webhook_endpoint_create_events_item import WebhookEndpointCreateEventsItem
from .webhook_endpoint_created import WebhookEndpointCreated
from .webhook_endpoint_list import WebhookEndpointList
from .webhook_endpoint_public import WebhookEndpointPublic

__all__ = (
    "Augmentation",
    "BodyCreateTeacher",
    "Budget",
    "BudgetBounds",
    "BudgetOutcome",
    "CNNSpec",
    "CNNSpecActivation",
    "CreateTransferSetFilesBody",
    "CreateTransferSetFilesBodyKind",
    "DeliveryStatus",
    "DeploymentReport",
    "DISTConfig",
    "DISTConfigDevice",
    "DISTConfigEnsemble",
    "DISTConfigOptimizer",
    "DISTConfigPrecision",
    "DISTConfigSchedule",
    "DISTConfigSoftWeightType1",
    "DISTConfigTemperatureMethod",
    "DISTConfigTemperatureType1",
    "DKDConfig",
    "DKDConfigDevice",
    "DKDConfigEnsemble",
    "DKDConfigOptimizer",
    "DKDConfigPrecision",
    "DKDConfigSchedule",
    "DKDConfigSoftWeightType1",
    "DKDConfigTemperatureMethod",
    "DKDConfigTemperatureType1",
    "EmbeddingBagSpec",
    "EmbeddingBagSpecActivation",
    "EmbeddingBagSpecMode",
    "EvaluationReport",
    "EvaluationReportPerClassErrorsType0",
    "EventList",
    "EventPublic",
    "EventPublicDataType0",
    "ExportInfo",
    "Health",
    "Int8Cost",
    "Int8CostExportSizesType0",
    "JobCreate",
    "JobCreateExportFormatsItem",
    "JobList",
    "JobMetrics",
    "JobPublic",
    "JobPublicBudgetType0",
    "JobPublicHyperparameters",
    "JobPublicStudent",
    "JobPublicSweepType0",
    "JobResult",
    "JobResultExportsType0",
    "JobStatus",
    "KDConfig",
    "KDConfigDevice",
    "KDConfigEnsemble",
    "KDConfigOptimizer",
    "KDConfigPrecision",
    "KDConfigSchedule",
    "KDConfigSoftWeightType1",
    "KDConfigTemperatureMethod",
    "KDConfigTemperatureType1",
    "LogitMatchingConfig",
    "LogitMatchingConfigDevice",
    "LogitMatchingConfigEnsemble",
    "LogitMatchingConfigOptimizer",
    "LogitMatchingConfigPrecision",
    "LogitMatchingConfigSchedule",
    "LogitMatchingConfigSoftWeightType1",
    "LogitMatchingConfigTemperatureMethod",
    "LogitMatchingConfigTemperatureType1",
    "MetricPoint",
    "MLPSpec",
    "MLPSpecActivation",
    "NetworkCost",
    "NetworkCostExportSizesType0",
    "Normalize",
    "PostTrainingAnswers",
    "Preprocessing",
    "PreprocessingColorType0",
    "ProblemDetail",
    "ProblemDetailErrorsType0Item",
    "Progress",
    "QuantizationAwareAnswers",
    "RunMetrics",
    "RunMetricsMetrics",
    "RunMetricsResultType0",
    "RunResult",
    "RunResultPerClassErrorsType0",
    "SweepRow",
    "SweepSpec",
    "TeacherList",
    "TeacherPublic",
    "TeacherPublicArchConfigType0",
    "TeacherPublicInputDtype",
    "TeacherPublicOutputKind",
    "TeacherPublicSandboxType0",
    "TemperatureCandidate",
    "TemperatureSearch",
    "TextBiLSTMSpec",
    "TextTransformerSpec",
    "TextTransformerSpecInit",
    "TorchvisionSpec",
    "TorchvisionSpecArch",
    "TransferSetBuiltinCreate",
    "TransferSetImageFolderCreate",
    "TransferSetList",
    "TransferSetPublic",
    "TransferSetPublicDtype",
    "TransferSetPublicKind",
    "TransferSetPublicSpecType0",
    "TransferSetTorchvisionCreate",
    "TransferSetTorchvisionCreateDataset",
    "WebhookAttempt",
    "WebhookDeliveryList",
    "WebhookDeliveryPublic",
    "WebhookEndpointCreate",
    "WebhookEndpointCreated",
    "WebhookEndpointCreateEventsItem",
    "WebhookEndpointList",
    "WebhookEndpointPublic",
)
