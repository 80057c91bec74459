from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.dkd_config_device import DKDConfigDevice
from ..models.dkd_config_ensemble import DKDConfigEnsemble
from ..models.dkd_config_optimizer import DKDConfigOptimizer
from ..models.dkd_config_precision import DKDConfigPrecision
from ..models.dkd_config_schedule import DKDConfigSchedule
from ..models.dkd_config_soft_weight_type_1 import DKDConfigSoftWeightType1
from ..models.dkd_config_temperature_method import DKDConfigTemperatureMethod
from ..models.dkd_config_temperature_type_1 import DKDConfigTemperatureType1
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast

if TYPE_CHECKING:
  from ..models.augmentation import Augmentation





T = TypeVar("T", bound="DKDConfig")



@_attrs_define
class DKDConfig:
    """ Defaults from the paper's and mdistiller's CIFAR-100 settings: T = 4, alpha = 1, beta = 8, and the
    cross-entropy and distillation parts at weight 1.

        Attributes:
            alpha (float | Unset): Weight of the target-class term TCKD. Default: 1.0.
            augmentation (Augmentation | None | Unset): Training-only image augmentation.
            batch_size (int | Unset):  Default: 64.
            beta (float | Unset): Weight of the non-target-class term NCKD. Default: 8.0.
            channels_last (bool | Unset): Train conv students in channels_last memory format. Default: False.
            compile_ (bool | Unset): torch.compile the student. Default: False.
            device (DKDConfigDevice | Unset):  Default: DKDConfigDevice.AUTO.
            devices (int | Unset): Train the job's run on this many devices at once with DistributedDataParallel: GPUs on a
                CUDA worker, processes on a CPU one. batch_size is per device, so each step sees devices × batch_size samples.
                Default: 1.
            distillation_warmup_epochs (int | None | Unset): The distillation part's weight grows linearly to full over this
                many first epochs (epoch e of W: e/W). None: the paper's share, 20 of 240 epochs (at least 1); 0: no warm-up.
            early_stopping_patience (int | None | Unset): Stop after this many epochs without a better validation accuracy.
            ensemble (DKDConfigEnsemble | Unset): How several teachers' distributions are combined. Default:
                DKDConfigEnsemble.ARITHMETIC.
            epochs (int | Unset):  Default: 30.
            gamma (float | Unset): 'step' schedule: decay factor. Default: 0.1.
            grad_clip (float | None | Unset): Clip the gradient's global norm to this value.
            hard_weight (float | Unset): Weight b of the hard-label term. Default: 1.0.
            learning_rate (float | Unset):  Default: 0.1.
            logit_standardization (bool | Unset): As for 'kd' (Sun et al. 2024). Default: False.
            loss (Literal['dkd'] | Unset):  Default: 'dkd'.
            momentum (float | Unset): SGD momentum. Default: 0.9.
            nesterov (bool | Unset):  Default: False.
            optimizer (DKDConfigOptimizer | Unset):  Default: DKDConfigOptimizer.SGD.
            precision (DKDConfigPrecision | Unset):  Default: DKDConfigPrecision.FP32.
            scale_soft_by_t2 (bool | Unset): Multiply the soft term by T² (Hinton et al.). Default: True.
            schedule (DKDConfigSchedule | Unset):  Default: DKDConfigSchedule.CONSTANT.
            seed (int | Unset):  Default: 0.
            soft_target_mass (float | Unset): temperature_method 'soft_targets': the mean probability the softened teacher
                distribution should put off its top class; higher picks hotter temperatures. Default: 0.2.
            soft_to_hard_grad_ratio (float | Unset): soft_weight "auto": the gradient-norm ratio, distillation to hard.
                Default: 1.0.
            soft_weight (DKDConfigSoftWeightType1 | float | Unset): Weight a of the distillation part (TCKD and NCKD), or
                "auto" (see kd). Default: 1.0.
            step_size (int | Unset): 'step' schedule: epochs between decays. Default: 10.
            teacher_cache (bool | Unset): Reuse the teacher's cached outputs on the transfer set (ignored under
                augmentation). Default: True.
            temperature (DKDConfigTemperatureType1 | float | Unset): Softmax temperature T of TCKD and NCKD, or "auto".
                Default: 4.0.
            temperature_grid (list[float] | Unset): temperature "auto": the candidates (the paper's grid by default).
            temperature_method (DKDConfigTemperatureMethod | Unset): temperature "auto": 'soft_targets' picks, before any
                training, the grid temperature whose softened teacher outputs on the transfer set put a share soft_target_mass
                of their probability off the top class most nearly (one run's cost); 'soft_targets_checked' also trains the
                grid's coolest temperature to the end and keeps the better of the two full runs on validation accuracy, then
                cross-entropy (at most two runs' cost); 'halving' trains the candidates in rounds of successive halving on
                validation cross-entropy (up to 2.5 runs' cost), which favours low temperatures that converge fast early.
                Default: DKDConfigTemperatureMethod.SOFT_TARGETS.
            temperature_search_epochs (int | None | Unset): temperature "auto": epochs each round trains its candidates;
                None: as many as keep the whole search within 1.5× one run's epochs.
            validation_folds (int | Unset): temperature "auto": score each candidate by k-fold cross-validation, the mean
                over k splits that each hold back a k-th of the transfer set (the search's rounds then cost k times as much;
                worth it on small sets, where the teacher pass is the large cost). 1: one split of validation_fraction. Default:
                1.
            validation_fraction (float | Unset): Share of the transfer set held out to pick the best epoch. Default: 0.1.
            warmup_epochs (int | Unset): Linear warm-up from 0 (not used by 'onecycle'). Default: 0.
            weight_decay (float | Unset):  Default: 0.0.
     """

    alpha: float | Unset = 1.0
    augmentation: Augmentation | None | Unset = UNSET
    batch_size: int | Unset = 64
    beta: float | Unset = 8.0
    channels_last: bool | Unset = False
    compile_: bool | Unset = False
    device: DKDConfigDevice | Unset = DKDConfigDevice.AUTO
    devices: int | Unset = 1
    distillation_warmup_epochs: int | None | Unset = UNSET
    early_stopping_patience: int | None | Unset = UNSET
    ensemble: DKDConfigEnsemble | Unset = DKDConfigEnsemble.ARITHMETIC
    epochs: int | Unset = 30
    gamma: float | Unset = 0.1
    grad_clip: float | None | Unset = UNSET
    hard_weight: float | Unset = 1.0
    learning_rate: float | Unset = 0.1
    logit_standardization: bool | Unset = False
    loss: Literal['dkd'] | Unset = 'dkd'
    momentum: float | Unset = 0.9
    nesterov: bool | Unset = False
    optimizer: DKDConfigOptimizer | Unset = DKDConfigOptimizer.SGD
    precision: DKDConfigPrecision | Unset = DKDConfigPrecision.FP32
    scale_soft_by_t2: bool | Unset = True
    schedule: DKDConfigSchedule | Unset = DKDConfigSchedule.CONSTANT
    seed: int | Unset = 0
    soft_target_mass: float | Unset = 0.2
    soft_to_hard_grad_ratio: float | Unset = 1.0
    soft_weight: DKDConfigSoftWeightType1 | float | Unset = 1.0
    step_size: int | Unset = 10
    teacher_cache: bool | Unset = True
    temperature: DKDConfigTemperatureType1 | float | Unset = 4.0
    temperature_grid: list[float] | Unset = UNSET
    temperature_method: DKDConfigTemperatureMethod | Unset = DKDConfigTemperatureMethod.SOFT_TARGETS
    temperature_search_epochs: int | None | Unset = UNSET
    validation_folds: int | Unset = 1
    validation_fraction: float | Unset = 0.1
    warmup_epochs: int | Unset = 0
    weight_decay: float | Unset = 0.0





    def to_dict(self) -> dict[str, Any]:
        from ..models.augmentation import Augmentation # noqa: PLC0415
        alpha = self.alpha

        augmentation: dict[str, Any] | None | Unset
        if isinstance(self.augmentation, Unset):
            augmentation = UNSET
        elif isinstance(self.augmentation, Augmentation):
            augmentation = self.augmentation.to_dict()
        else:
            augmentation = self.augmentation

        batch_size = self.batch_size

        beta = self.beta

        channels_last = self.channels_last

        compile_ = self.compile_

        device: str | Unset = UNSET
        if not isinstance(self.device, Unset):
            device = self.device.value


        devices = self.devices

        distillation_warmup_epochs: int | None | Unset
        if isinstance(self.distillation_warmup_epochs, Unset):
            distillation_warmup_epochs = UNSET
        else:
            distillation_warmup_epochs = self.distillation_warmup_epochs

        early_stopping_patience: int | None | Unset
        if isinstance(self.early_stopping_patience, Unset):
            early_stopping_patience = UNSET
        else:
            early_stopping_patience = self.early_stopping_patience

        ensemble: str | Unset = UNSET
        if not isinstance(self.ensemble, Unset):
            ensemble = self.ensemble.value


        epochs = self.epochs

        gamma = self.gamma

        grad_clip: float | None | Unset
        if isinstance(self.grad_clip, Unset):
            grad_clip = UNSET
        else:
            grad_clip = self.grad_clip

        hard_weight = self.hard_weight

        learning_rate = self.learning_rate

        logit_standardization = self.logit_standardization

        loss = self.loss

        momentum = self.momentum

        nesterov = self.nesterov

        optimizer: str | Unset = UNSET
        if not isinstance(self.optimizer, Unset):
            optimizer = self.optimizer.value


        precision: str | Unset = UNSET
        if not isinstance(self.precision, Unset):
            precision = self.precision.value


        scale_soft_by_t2 = self.scale_soft_by_t2

        schedule: str | Unset = UNSET
        if not isinstance(self.schedule, Unset):
            schedule = self.schedule.value


        seed = self.seed

        soft_target_mass = self.soft_target_mass

        soft_to_hard_grad_ratio = self.soft_to_hard_grad_ratio

        soft_weight: float | str | Unset
        if isinstance(self.soft_weight, Unset):
            soft_weight = UNSET
        elif isinstance(self.soft_weight, DKDConfigSoftWeightType1):
            soft_weight = self.soft_weight.value
        else:
            soft_weight = self.soft_weight

        step_size = self.step_size

        teacher_cache = self.teacher_cache

        temperature: float | str | Unset
        if isinstance(self.temperature, Unset):
            temperature = UNSET
        elif isinstance(self.temperature, DKDConfigTemperatureType1):
            temperature = self.temperature.value
        else:
            temperature = self.temperature

        temperature_grid: list[float] | Unset = UNSET
        if not isinstance(self.temperature_grid, Unset):
            temperature_grid = self.temperature_grid



        temperature_method: str | Unset = UNSET
        if not isinstance(self.temperature_method, Unset):
            temperature_method = self.temperature_method.value


        temperature_search_epochs: int | None | Unset
        if isinstance(self.temperature_search_epochs, Unset):
            temperature_search_epochs = UNSET
        else:
            temperature_search_epochs = self.temperature_search_epochs

        validation_folds = self.validation_folds

        validation_fraction = self.validation_fraction

        warmup_epochs = self.warmup_epochs

        weight_decay = self.weight_decay


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if alpha is not UNSET:
            field_dict["alpha"] = alpha
        if augmentation is not UNSET:
            field_dict["augmentation"] = augmentation
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if beta is not UNSET:
            field_dict["beta"] = beta
        if channels_last is not UNSET:
            field_dict["channels_last"] = channels_last
        if compile_ is not UNSET:
            field_dict["compile"] = compile_
        if device is not UNSET:
            field_dict["device"] = device
        if devices is not UNSET:
            field_dict["devices"] = devices
        if distillation_warmup_epochs is not UNSET:
            field_dict["distillation_warmup_epochs"] = distillation_warmup_epochs
        if early_stopping_patience is not UNSET:
            field_dict["early_stopping_patience"] = early_stopping_patience
        if ensemble is not UNSET:
            field_dict["ensemble"] = ensemble
        if epochs is not UNSET:
            field_dict["epochs"] = epochs
        if gamma is not UNSET:
            field_dict["gamma"] = gamma
        if grad_clip is not UNSET:
            field_dict["grad_clip"] = grad_clip
        if hard_weight is not UNSET:
            field_dict["hard_weight"] = hard_weight
        if learning_rate is not UNSET:
            field_dict["learning_rate"] = learning_rate
        if logit_standardization is not UNSET:
            field_dict["logit_standardization"] = logit_standardization
        if loss is not UNSET:
            field_dict["loss"] = loss
        if momentum is not UNSET:
            field_dict["momentum"] = momentum
        if nesterov is not UNSET:
            field_dict["nesterov"] = nesterov
        if optimizer is not UNSET:
            field_dict["optimizer"] = optimizer
        if precision is not UNSET:
            field_dict["precision"] = precision
        if scale_soft_by_t2 is not UNSET:
            field_dict["scale_soft_by_t2"] = scale_soft_by_t2
        if schedule is not UNSET:
            field_dict["schedule"] = schedule
        if seed is not UNSET:
            field_dict["seed"] = seed
        if soft_target_mass is not UNSET:
            field_dict["soft_target_mass"] = soft_target_mass
        if soft_to_hard_grad_ratio is not UNSET:
            field_dict["soft_to_hard_grad_ratio"] = soft_to_hard_grad_ratio
        if soft_weight is not UNSET:
            field_dict["soft_weight"] = soft_weight
        if step_size is not UNSET:
            field_dict["step_size"] = step_size
        if teacher_cache is not UNSET:
            field_dict["teacher_cache"] = teacher_cache
        if temperature is not UNSET:
            field_dict["temperature"] = temperature
        if temperature_grid is not UNSET:
            field_dict["temperature_grid"] = temperature_grid
        if temperature_method is not UNSET:
            field_dict["temperature_method"] = temperature_method
        if temperature_search_epochs is not UNSET:
            field_dict["temperature_search_epochs"] = temperature_search_epochs
        if validation_folds is not UNSET:
            field_dict["validation_folds"] = validation_folds
        if validation_fraction is not UNSET:
            field_dict["validation_fraction"] = validation_fraction
        if warmup_epochs is not UNSET:
            field_dict["warmup_epochs"] = warmup_epochs
        if weight_decay is not UNSET:
            field_dict["weight_decay"] = weight_decay

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.augmentation import Augmentation # noqa: PLC0415
        d = dict(src_dict)
        alpha = d.pop("alpha", UNSET)

        def _parse_augmentation(data: object) -> Augmentation | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                augmentation_type_0 = Augmentation.from_dict(data)



                return augmentation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Augmentation | None | Unset, data)

        augmentation = _parse_augmentation(d.pop("augmentation", UNSET))


        batch_size = d.pop("batch_size", UNSET)

        beta = d.pop("beta", UNSET)

        channels_last = d.pop("channels_last", UNSET)

        compile_ = d.pop("compile", UNSET)

        _device = d.pop("device", UNSET)
        device: DKDConfigDevice | Unset
        if isinstance(_device,  Unset):
            device = UNSET
        else:
            device = DKDConfigDevice(_device)




        devices = d.pop("devices", UNSET)

        def _parse_distillation_warmup_epochs(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        distillation_warmup_epochs = _parse_distillation_warmup_epochs(d.pop("distillation_warmup_epochs", UNSET))


        def _parse_early_stopping_patience(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        early_stopping_patience = _parse_early_stopping_patience(d.pop("early_stopping_patience", UNSET))


        _ensemble = d.pop("ensemble", UNSET)
        ensemble: DKDConfigEnsemble | Unset
        if isinstance(_ensemble,  Unset):
            ensemble = UNSET
        else:
            ensemble = DKDConfigEnsemble(_ensemble)




        epochs = d.pop("epochs", UNSET)

        gamma = d.pop("gamma", UNSET)

        def _parse_grad_clip(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        grad_clip = _parse_grad_clip(d.pop("grad_clip", UNSET))


        hard_weight = d.pop("hard_weight", UNSET)

        learning_rate = d.pop("learning_rate", UNSET)

        logit_standardization = d.pop("logit_standardization", UNSET)

        loss = cast(Literal['dkd'] | Unset , d.pop("loss", UNSET))
        if loss != 'dkd'and not isinstance(loss, Unset):
            raise ValueError(f"loss must match const 'dkd', got '{loss}'")

        momentum = d.pop("momentum", UNSET)

        nesterov = d.pop("nesterov", UNSET)

        _optimizer = d.pop("optimizer", UNSET)
        optimizer: DKDConfigOptimizer | Unset
        if isinstance(_optimizer,  Unset):
            optimizer = UNSET
        else:
            optimizer = DKDConfigOptimizer(_optimizer)




        _precision = d.pop("precision", UNSET)
        precision: DKDConfigPrecision | Unset
        if isinstance(_precision,  Unset):
            precision = UNSET
        else:
            precision = DKDConfigPrecision(_precision)




        scale_soft_by_t2 = d.pop("scale_soft_by_t2", UNSET)

        _schedule = d.pop("schedule", UNSET)
        schedule: DKDConfigSchedule | Unset
        if isinstance(_schedule,  Unset):
            schedule = UNSET
        else:
            schedule = DKDConfigSchedule(_schedule)




        seed = d.pop("seed", UNSET)

        soft_target_mass = d.pop("soft_target_mass", UNSET)

        soft_to_hard_grad_ratio = d.pop("soft_to_hard_grad_ratio", UNSET)

        def _parse_soft_weight(data: object) -> DKDConfigSoftWeightType1 | float | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                soft_weight_type_1 = DKDConfigSoftWeightType1(data)



                return soft_weight_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DKDConfigSoftWeightType1 | float | Unset, data)

        soft_weight = _parse_soft_weight(d.pop("soft_weight", UNSET))


        step_size = d.pop("step_size", UNSET)

        teacher_cache = d.pop("teacher_cache", UNSET)

        def _parse_temperature(data: object) -> DKDConfigTemperatureType1 | float | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                temperature_type_1 = DKDConfigTemperatureType1(data)



                return temperature_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DKDConfigTemperatureType1 | float | Unset, data)

        temperature = _parse_temperature(d.pop("temperature", UNSET))


        temperature_grid = cast(list[float], d.pop("temperature_grid", UNSET))


        _temperature_method = d.pop("temperature_method", UNSET)
        temperature_method: DKDConfigTemperatureMethod | Unset
        if isinstance(_temperature_method,  Unset):
            temperature_method = UNSET
        else:
            temperature_method = DKDConfigTemperatureMethod(_temperature_method)




        def _parse_temperature_search_epochs(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        temperature_search_epochs = _parse_temperature_search_epochs(d.pop("temperature_search_epochs", UNSET))


        validation_folds = d.pop("validation_folds", UNSET)

        validation_fraction = d.pop("validation_fraction", UNSET)

        warmup_epochs = d.pop("warmup_epochs", UNSET)

        weight_decay = d.pop("weight_decay", UNSET)

        dkd_config = cls(
            alpha=alpha,
            augmentation=augmentation,
            batch_size=batch_size,
            beta=beta,
            channels_last=channels_last,
            compile_=compile_,
            device=device,
            devices=devices,
            distillation_warmup_epochs=distillation_warmup_epochs,
            early_stopping_patience=early_stopping_patience,
            ensemble=ensemble,
            epochs=epochs,
            gamma=gamma,
            grad_clip=grad_clip,
            hard_weight=hard_weight,
            learning_rate=learning_rate,
            logit_standardization=logit_standardization,
            loss=loss,
            momentum=momentum,
            nesterov=nesterov,
            optimizer=optimizer,
            precision=precision,
            scale_soft_by_t2=scale_soft_by_t2,
            schedule=schedule,
            seed=seed,
            soft_target_mass=soft_target_mass,
            soft_to_hard_grad_ratio=soft_to_hard_grad_ratio,
            soft_weight=soft_weight,
            step_size=step_size,
            teacher_cache=teacher_cache,
            temperature=temperature,
            temperature_grid=temperature_grid,
            temperature_method=temperature_method,
            temperature_search_epochs=temperature_search_epochs,
            validation_folds=validation_folds,
            validation_fraction=validation_fraction,
            warmup_epochs=warmup_epochs,
            weight_decay=weight_decay,
        )

        return dkd_config

