from enum import StrEnum

class TeacherPublicSandboxType0(StrEnum):
    NAMESPACES = "namespaces"
    RLIMITS_ONLY = "rlimits-only"
    UNAVAILABLE = "unavailable"

    def __str__(self) -> str:
        return str(self.value)
