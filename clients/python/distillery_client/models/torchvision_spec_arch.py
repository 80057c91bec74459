from enum import StrEnum

class TorchvisionSpecArch(StrEnum):
    EFFICIENTNET_B0 = "efficientnet_b0"
    MOBILENET_V3_SMALL = "mobilenet_v3_small"
    RESNET18 = "resnet18"
    RESNET34 = "resnet34"

    def __str__(self) -> str:
        return str(self.value)
