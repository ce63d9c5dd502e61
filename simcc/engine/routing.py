"""Routing written in Python: the three decisions of a contact-center router.

:class:`Router` makes them exactly as the compiled policies do (the base
class reproduces the kernel bit for bit, which the tests check); subclass it
to prototype a policy and run it on the reference engine with
``simcc.simulate(scenario, engine="reference", router=MyRouter)``.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .contract import AGENT_RULES, CHOICE_CODES

if TYPE_CHECKING:
    from .reference import Call

WEIGHTED_WAIT = CHOICE_CODES["weighted_wait"]


class Router:
    """The three routing decisions of a contact-center router, as the compiled policies make them.

    Subclass it and pass the class to ``simcc.simulate(..., engine="reference",
    router=MyRouter)`` to prototype a policy in Python; the compiled kernel
    implements exactly the methods below, selected by ``routing.policy`` in the
    scenario.

    ``self.center`` is the reference engine's ``CallCenter``: ``center.idle[g]`` (idle-since
    times, longest idle first), ``center.queues[q][l]`` (waiting calls, oldest
    first), ``center.env.now``, ``center.cs`` (the compiled scenario).
    """

    def __init__(self):
        self.center = None

    def queue_for(self, call: Call) -> int:
        """Decision 2: the queue (a call type) the call waits in. Compiled policies: its own type."""
        return call.k

    def reserve_ok(self, g: int, k: int, l: int, idle_left: int) -> bool:
        cs = self.center.cs
        if not cs.use_reserve or cs.reserve_n[g] == 0:
            return True
        if l == cs.reserve_tier[g] or k == cs.reserve_type[g]:
            return True
        return idle_left >= cs.reserve_n[g]

    def overflow_holds(self, k: int) -> bool:
        """Whether call type k's overflow threshold applies: some agent of a primary group is on
        duty (not counting agents on their way out); while none is, secondary groups take its calls at once."""
        cs, center = self.center.cs, self.center
        for j in range(cs.type_groups_ptr[k], cs.type_groups_ptr[k + 1]):
            if cs.type_groups_level[j] > cs.primary_level[k]:
                break
            g = int(cs.type_groups[j])
            if center.present[g] - center.pending_leave[g] > 0:
                return True
        return False

    def pick_group(self, call: Call, secondary: bool) -> int:
        """Decision 1: the group whose agent takes the call now (-1: none, the call waits).

        Best skill level with an idle agent the call may use, then the
        longest-idle agent; with overflow, secondary levels only when
        ``secondary`` (the call has waited its threshold) or while no primary
        agent is on duty.
        """
        cs, idle, k = self.center.cs, self.center.idle, call.q
        best, best_t, level = -1, math.inf, None
        candidates: list[int] = []
        for j in range(cs.type_groups_ptr[k], cs.type_groups_ptr[k + 1]):
            lv = cs.type_groups_level[j]
            if best >= 0 and lv != level:
                break
            if cs.use_overflow and not secondary and lv > cs.primary_level[k] and self.overflow_holds(k):
                break
            g = int(cs.type_groups[j])
            if idle[g] and self.reserve_ok(g, k, call.l, len(idle[g]) - 1):
                if cs.agent_rule == AGENT_RULES["group_order"]:
                    return g
                candidates.append(g)
                if best < 0 or idle[g][0] < best_t:
                    best, best_t, level = g, idle[g][0], lv
        if cs.agent_rule == AGENT_RULES["random"] and len(candidates) > 1:
            u = self.center.rng["route"].random() * sum(len(idle[g]) for g in candidates)
            for g in candidates:
                best = g
                if u < len(idle[g]):
                    break
                u -= len(idle[g])
        return best

    def pick_call(self, g: int):
        """Decision 3: the waiting call a freed agent of group g takes (None: it stays idle)."""
        center = self.center
        cs, now = center.cs, center.env.now
        weighted = cs.policy == WEIGHTED_WAIT
        tier_first = bool(cs.tier_priority)
        best, best_t, best_l, level, best_score = None, math.inf, 0, None, -1.0
        for j in range(cs.group_types_ptr[g], cs.group_types_ptr[g + 1]):
            lv = cs.group_types_level[j]
            if best is not None and not weighted and lv != level:
                break
            k = int(cs.group_types[j])
            for l in range(cs.n_tiers):
                q = center.queues[k][l]
                if not q:
                    continue
                head = next(iter(q))
                t = head.t_queue
                if (cs.use_overflow and lv > cs.primary_level[k] and now - t < cs.overflow_after_s[k]
                        and self.overflow_holds(k)):
                    continue
                if not self.reserve_ok(g, k, l, len(center.idle[g])):
                    continue
                if weighted:
                    score = cs.weight[k, l] * (now - t) / cs.service_mean_s[k, g]
                    if score > best_score:
                        best, best_score = head, score
                    continue
                if best is None or (tier_first and l < best_l) or ((not tier_first or l == best_l) and t < best_t):
                    best, best_t, best_l, level = head, t, l, lv
        return best
