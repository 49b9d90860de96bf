"""Every cost bound of CEL conditions, in one place (SPEC §3, §8).

celpy has no cost model: a short expression can nest comprehensions (time grows as the
product of the list sizes) or double a string in a chain of ``map()`` calls (memory grows
as 2^n). Hoist therefore bounds a condition twice:

* at save (``validate_condition``: createPromotionPolicy, updatePromotionPolicy, CD filter
  conditions, validateCondition) by its size and shape, checked on the text and parse tree
  before anything runs, and by a trial evaluation on sample images under
  :data:`VALIDATION_BUDGET`;
* at run time by :data:`RUNTIME_BUDGET`, enforced inside celpy's evaluation
  (app/cel/budget.py) for every condition and image. An image whose evaluation
  goes over it is not eligible, with "condition exceeded the evaluation budget: …" as the
  reason.

The README's reliability section lists the same numbers; change both together.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import limits

# ------------------------------------------------------------------ at save (static)

# Longest condition text, in characters. Checked before parsing, so a 10 MB expression
# costs nothing. Real conditions are a few hundred characters.
MAX_EXPRESSION_CHARS = limits.CONDITION  # the services check it first, on every door
# Parse-tree nodes (operators, operands, calls, literals; the grammar's pass-through
# levels are not counted).
MAX_EXPRESSION_NODES = 400
# Comprehension macros: all, exists, exists_one, map, filter. A macro inside another
# one's body runs once per element of the outer list, so nesting multiplies the cost;
# chaining (``l.map(...).filter(...)``) only adds.
COMPREHENSION_MACROS: tuple[str, ...] = ("all", "exists", "exists_one", "map", "filter")
MAX_MACRO_NESTING = 2
MAX_MACROS = 8


# ---------------------------------------------------------------- run-time budgets


@dataclass(frozen=True)
class Budget:
    """What one evaluation of one condition for one image may spend.

    ``steps``: comprehension-macro iterations plus operators that build strings or lists;
    ``value_size``: length of any one string, bytes or list built during evaluation;
    ``allocated``: total length of all strings, bytes and lists built (a memory bound);
    ``seconds``: wall time, checked at every step (a thread cannot be killed, so the
    check has to happen inside the evaluation).
    """

    steps: int
    value_size: int
    allocated: int
    seconds: float


# Saved conditions during promote, preview, deployableImages, deploy and policy updates.
# A step costs about 10 µs on this machine (50 µs when its 2 cores are overloaded):
# 20,000 steps is 0.2-1 s, enough for two nested comprehensions over 140 labels. The time
# limit is the backstop for steps that are slow in themselves; steps, unlike time, give
# the same verdict on a busy machine.
RUNTIME_BUDGET = Budget(steps=20_000, value_size=100_000, allocated=1_000_000, seconds=5.0)
# The trial evaluation on sample images at save and in validateCondition (which every
# signed-in user may call): samples are tiny, so a real condition needs a few steps.
VALIDATION_BUDGET = Budget(steps=1_000, value_size=100_000, allocated=1_000_000, seconds=0.25)
# One batch (all images of one deployableImages, promotionPreview or policy update) stops
# evaluating after this long: the remaining images are not eligible with the budget reason.
MAX_BATCH_SECONDS = 10.0
# Worker threads that evaluate conditions off the event loop (the machine has 2 cores).
EVALUATION_THREADS = 2
