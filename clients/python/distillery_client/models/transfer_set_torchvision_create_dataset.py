from enum import StrEnum

class TransferSetTorchvisionCreateDataset(StrEnum):
    CIFAR10 = "CIFAR10"
    CIFAR100 = "CIFAR100"
    FASHIONMNIST = "FashionMNIST"
    MNIST = "MNIST"
    SVHN = "SVHN"

    def __str__(self) -> str:
        return str(self.value)
