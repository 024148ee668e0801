"""memlint's rules, one module per rule. Installed as ``memlint.rules``, never as ``rules``.

The catalogue is the explicit, code-ordered tuple ``ALL_RULES``.
"""

if __name__ != "memlint.rules":  # pragma: no cover - guard against the checkout's folder name
    raise ImportError(
        "memlint's rules must be imported as 'memlint.rules', not as top-level "
        f"{__name__!r} (a top-level 'rules' belongs to another distribution)"
    )

from memlint.rule import Rule
from memlint.rules.array_grown_in_loop import ArrayGrownInLoop
from memlint.rules.bound_method_registered import BoundMethodRegistered
from memlint.rules.exception_kept_alive import ExceptionKeptAlive
from memlint.rules.full_list_for_one_element import FullListForOneElement
from memlint.rules.gc_debug_saveall import GcDebugSaveall
from memlint.rules.gc_disable_without_enable import GcDisableWithoutEnable
from memlint.rules.gc_threshold_zero import GcThresholdZero
from memlint.rules.immutable_subclass_without_slots import ImmutableSubclassWithoutSlots
from memlint.rules.ineffective_slots import IneffectiveSlots
from memlint.rules.list_materialized_once import ListMaterializedOnce
from memlint.rules.method_cache import MethodCache
from memlint.rules.missing_slots import MissingSlots
from memlint.rules.quadratic_concatenation import QuadraticConcatenation
from memlint.rules.strong_parent_reference import StrongParentReference
from memlint.rules.unbounded_module_cache import UnboundedModuleCache
from memlint.rules.unused_noqa import UnusedNoqa
from memlint.rules.whole_file_read_to_iterate import WholeFileReadToIterate
from memlint.rules.whole_table_read import WholeTableRead
from memlint.rules.wide_default_dtype import WideDefaultDtype

ALL_RULES: tuple[type[Rule], ...] = (
    UnusedNoqa,
    ListMaterializedOnce,
    WholeFileReadToIterate,
    FullListForOneElement,
    QuadraticConcatenation,
    MissingSlots,
    ImmutableSubclassWithoutSlots,
    IneffectiveSlots,
    StrongParentReference,
    MethodCache,
    ExceptionKeptAlive,
    GcDisableWithoutEnable,
    GcThresholdZero,
    GcDebugSaveall,
    UnboundedModuleCache,
    BoundMethodRegistered,
    WholeTableRead,
    ArrayGrownInLoop,
    WideDefaultDtype,
)

__all__ = ["ALL_RULES"]
