"""Policy rules referenced by name from workflow definitions.

A guard takes the firing context and returns None when the step may go ahead, or a reason
(translated, for the person who asked) when it may not. A branch predicate chooses between
alternative destinations of one trigger (e.g. filing with or without a financing need).
"""

from . import guards, progress, resend, subsidy  # noqa: F401  (registers the guards and branch predicates)
from .context import BRANCHES, GUARDS, RuleContext, branch, guard

__all__ = ["BRANCHES", "GUARDS", "RuleContext", "branch", "guard"]
