"""The simcc model written plainly on SimPy: the readable specification.

This engine reads the same compiled scenario (:mod:`simcc.engine.compile`) and the
same random streams as the compiled kernel, and draws at the same points, so
for a given seed it produces the same calls with the same outcomes, and the
same statistics arrays. It is slow (one Python generator per caller); it is
here to be read, to prove the kernel right, and to be the speed baseline.

How a call goes through (see DESIGN.md, "The model"):

1. An arrival stream's process sleeps until its next arrival (exact
   non-homogeneous Poisson) and then handles the caller: tier, IVR time, IVR
   outcome and menu choice are drawn now; the caller is blocked if every
   trunk line is busy, otherwise it seizes a line.
2. The caller's process waits out the IVR menu; it leaves if it finished in
   self-service or hung up, else it reaches the agent queue of its call type.
3. At the queue it draws its patience; the router gives it to an idle agent
   at once if one can take it, otherwise it waits for an agent or for its
   patience to run out, whichever comes first.
4. Answered: talk, HOLD and after-call work are drawn by the answering group;
   the line is released at the end of talk + hold, the agent after ACW.
5. At each interval border the headcount changes; agents leaving finish the
   call in hand first.

Tie rule: events are ordered by time, then by the order they were scheduled.
Every timeout below is created at the point where the kernel schedules the
same event, and every state change happens in the callback of that event,
so SimPy's own (time, id) order is the kernel's (time, seq) order.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np
import simpy

from .compile import CompiledScenario
from .contract import (
    CALL_KINDS,
    CLOSING_MODES,
    DIST_CODES,
    IVR_ENTRY,
    LEGS,
    LOG_DTYPE,
    MAX_WAIT_ACTIONS,
    OUTCOME_CODES,
    SOURCE_IDS,
    WAIT_BINS,
    new_stats,
)
from .routing import Router

EXPONENTIAL = DIST_CODES["exponential"]
DETERMINISTIC = DIST_CODES["deterministic"]
UNIFORM = DIST_CODES["uniform"]
LOGNORMAL = DIST_CODES["lognormal"]
GAMMA = DIST_CODES["gamma"]
WEIBULL = DIST_CODES["weibull"]
EMPIRICAL = DIST_CODES["empirical"]
TRIANGULAR = DIST_CODES["triangular"]

ROUTED, CONTAINED, HANGUP, UNHEARD = 0, 1, 2, 3     # UNHEARD: a redial after a block draws its IVR outcome
IN_IVR, WAITING, IN_SERVICE, RETRY, CALLBACK, DONE = "ivr", "waiting", "service", "retry", "callback", "done"
DIALING, DIALED = "dialing", "dialed"       # a dial in progress; a reached party waiting for an agent
FIRST, REDIAL, REPEAT = (CALL_KINDS.index(k) for k in ("first", "redial", "repeat"))
LEG_FIRST, LEG_TRANSFER, LEG_OUTBOUND = (LEGS.index(k) for k in ("first", "transfer", "outbound"))
CLOSE_SERVE, CLOSE_CLEAR = CLOSING_MODES["serve"], CLOSING_MODES["clear"]
BALKED_, MESSAGE_, DISCONNECTED_, QUEUE_FULL_ = (OUTCOME_CODES[k] for k in ("balked", "message", "disconnected",
                                                                          "queue_full"))
BLOCKED_, CONTAINED_, IVR_ABANDONED_, ANSWERED_, ABANDONED_, CALLBACK_, CALLED_BACK_ = (
    OUTCOME_CODES[k] for k in ("blocked", "contained", "ivr_abandoned", "answered", "abandoned", "callback",
                               "called_back"))


def _kernel():
    from .native import kernel
    return kernel()


def call_stream(state: int) -> np.random.Generator:
    """A call's own random stream (the kernel's SplitMix64 per-call stream, as a numpy Generator)."""
    return np.random.Generator(_kernel().CallStream(state))


def derived(gen: np.random.Generator, kind: str) -> np.random.Generator:
    """The stream of a redial, repeat call or transferred leg, from its parent's stream."""
    core = _kernel()
    return call_stream(core.derive_stream(gen.bit_generator.stream_state, core.STREAM_SALTS[kind]))


class Call:
    """One caller in the system."""

    __slots__ = ("t_arrive", "t_queue", "p", "k", "l", "g", "ivr_outcome", "counted", "state",
                 "answered", "patience", "service_done", "acw_s", "kind", "attempts", "ivr_entry",
                 "transfer_to", "repeat_delay_s", "leg", "q", "overflow", "offer", "line", "quality",
                 "caller", "stream", "ivr_s", "maxwait", "gen", "rng_mem", "wait_prev", "conf_s",
                 "conf_acw", "reached", "talk_s", "mismatch", "agent")

    def __init__(self, k, l, ivr_entry, kind=FIRST, attempts=1, caller=-1, stream=0, key=0):
        self.k, self.l = k, l
        self.caller, self.stream = caller, stream
        self.gen = call_stream(key)
        self.rng_mem, self.wait_prev, self.conf_s, self.conf_acw = 0, 0.0, 0.0, 0
        self.agent = -1
        self.ivr_entry = ivr_entry
        self.kind, self.attempts = kind, attempts
        self.state = RETRY

    def admitted(self, t, p, ivr_outcome, counted):
        """Reset for an attempt that seized a line at time t."""
        self.t_arrive = self.t_queue = t
        self.p = p
        self.g = -1
        self.ivr_outcome = ivr_outcome
        self.counted = counted
        self.answered = self.patience = self.service_done = self.overflow = self.offer = self.maxwait = None
        self.quality = 0
        self.acw_s = 0.0
        self.transfer_to = -1
        self.repeat_delay_s = -1.0
        self.leg = LEG_FIRST
        self.ivr_s = 0.0


class CallCenter:
    """The center: trunk lines, queues, agent groups and the statistics they produce."""

    def __init__(self, env: simpy.Environment, cs: CompiledScenario, arrival_bitgens, source_bitgens,
                 volume: float = 1.0, call_log: bool = False, router: Router | None = None,
                 stats: dict | None = None):
        self.env = env
        self.cs = cs
        self.router = router if router is not None else Router()
        self.router.center = self
        self.volume = volume
        self.arrival_rng = [np.random.Generator(b) for b in arrival_bitgens]
        self.rng = {name: np.random.Generator(source_bitgens[i]) for name, i in SOURCE_IDS.items()}
        P, K, L, G = cs.n_intervals, cs.n_types, cs.n_tiers, cs.n_groups
        self.horizon_s = P * cs.interval_s
        self.lines = simpy.Resource(env, capacity=max(cs.trunks, 1) if cs.trunks >= 0 else 2 ** 62)
        self.limited = cs.trunks >= 0
        self.queues = [[{} for _ in range(L)] for _ in range(K)]   # insertion-ordered: FIFO
        self.live: set[Call] = set()
        self.p_cur = 0
        # agents: per group, the idle-since times of idle agents (longest idle first)
        self.idle = [deque() for _ in range(G)]
        self.idle_ids = [deque() for _ in range(G)]  # ... and their numbers (log-in order within the group)
        self.next_agent = [0] * G
        self.present = [0] * G
        self.pending_leave = [0] * G
        self.staff_t = [0.0] * G
        self.lines_t = 0.0
        self.queue_t = 0.0
        self.n_waiting = 0
        self.n_events = 0
        self.n_arrivals = 0
        self.arr_t = [0.0] * cs.n_streams
        self.arr_p = [0] * cs.n_streams
        self.log = [] if call_log else None
        self.stats = stats if stats is not None else new_stats(cs)

        self.closed = False                         # the center has closed (closing:)
        self.past_horizon = False                   # draining after the horizon (closing.queue: serve)
        self.any_balking = bool(np.any(cs.balk_prob > 0))
        self.callbacks = [{} for _ in range(K)]     # accepted callbacks per call type, oldest first
        self.pending = [0] * cs.n_tasks             # outbound tasks: quality call-backs, campaigns
        self.dl_active = False                      # the predictive dialer is switched on
        self.dl_pending = 0                         # dials in progress
        self.dl_waiting: dict[Call, None] = {}      # reached parties waiting for an agent, oldest first

        # t = 0: headcount and campaign work of interval 0, then the arrival streams, then the interval clock
        for g in range(G):
            self.present[g] = int(cs.headcount[0, g])
            for _ in range(self.present[g]):
                self.idle_push(g, self.log_in(g))
        self.add_campaign_tasks(0)
        for s in range(cs.n_streams):
            env.process(self.arrivals(s))
        env.process(self.interval_clock())
        if cs.closing_s < math.inf:
            env.process(self.closing_clock())
        self.schedule_dialer(0)

    # ------------------------------------------------------------------
    # random draws: one numpy Generator method per kernel draw
    # ------------------------------------------------------------------
    def sample(self, source: str, d: int) -> float:
        return self.draw(self.rng[source], d)

    def draw(self, gen, d: int) -> float:
        """One draw of distribution row ``d`` from ``gen`` (a source's stream or a call's own)."""
        cs = self.cs
        code, a, b = int(cs.dist_code[d]), float(cs.dist_a[d]), float(cs.dist_b[d])
        if code == EXPONENTIAL:
            return a * gen.standard_exponential()
        if code == DETERMINISTIC:
            return a
        if code == LOGNORMAL:
            return float(gen.lognormal(a, b))
        if code == GAMMA:
            return float(gen.gamma(a, b))
        if code == UNIFORM:
            return a + b * gen.random()
        if code == WEIBULL:
            return b * gen.weibull(a)
        if code == EMPIRICAL:
            n = int(cs.dist_n[d])
            j = min(int(gen.random() * n), n - 1)
            return float(cs.dist_values[int(cs.dist_offset[d]) + j])
        if code == TRIANGULAR:
            u = gen.random()
            o = int(cs.dist_offset[d])
            lo, mode, hi = (float(v) for v in cs.dist_values[o:o + 3])
            if u * (hi - lo) < mode - lo:
                return lo + math.sqrt(u * (hi - lo) * (mode - lo))
            return hi - math.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
        return math.inf  # never

    @staticmethod
    def categorical(gen, cum) -> int:
        u = gen.random()
        j = 0
        while j < len(cum) - 1 and u >= cum[j]:
            j += 1
        return j

    # ------------------------------------------------------------------
    # time-weighted levels
    # ------------------------------------------------------------------
    def lines_level(self):
        """Add the line-seconds since the last change; call before the number of busy lines changes."""
        if self.past_horizon:
            return
        now = self.env.now
        self.stats["lines_s"][self.p_cur] += self.lines.count * (now - self.lines_t)
        self.lines_t = now

    def seize_line(self):
        self.lines_level()
        line = self.lines.request()
        if self.past_horizon:
            return line
        peak = self.stats["lines_peak"]
        peak[self.p_cur] = max(peak[self.p_cur], self.lines.count)
        return line

    def queue_change(self, delta: int):
        if self.past_horizon:
            self.n_waiting += delta
            return
        now, st = self.env.now, self.stats
        st["queue_s"][self.p_cur] += self.n_waiting * (now - self.queue_t)
        self.queue_t = now
        self.n_waiting += delta
        if self.n_waiting > st["queue_peak"][self.p_cur]:
            st["queue_peak"][self.p_cur] = self.n_waiting

    def staff_change(self, g: int, delta: int):
        if self.past_horizon:
            self.present[g] += delta
            return
        now = self.env.now
        self.stats["staffed_s"][self.p_cur, g] += self.present[g] * (now - self.staff_t[g])
        self.staff_t[g] = now
        self.present[g] += delta

    def add_busy(self, acc, g: int, t0: float, t1: float):
        """Busy span [t0, t1) of one agent of group g, split at interval borders."""
        I = self.cs.interval_s
        p = self.p_cur
        t1 = min(t1, self.horizon_s)
        while t0 < t1:
            end = (p + 1) * I
            while end <= t0:
                p += 1
                end = (p + 1) * I
            if t1 <= end:
                acc[p, g] += t1 - t0
                return
            acc[p, g] += end - t0
            t0 = end
            p += 1

    def record(self, call: Call, outcome: int, wait: float = 0.0, g: int = -1,
               talk: float = 0.0, hold: float = 0.0, acw: float = 0.0):
        if self.log is not None:
            self.log.append((call.t_arrive, self.env.now, wait, call.ivr_s, talk, hold, acw, call.caller,
                             call.attempts, call.kind, call.stream, call.leg, call.k, call.l, outcome, g,
                             call.agent if g >= 0 else -1))

    # ------------------------------------------------------------------
    # agents: per group, the idle ones in longest-idle order (idle-since times and numbers)
    # ------------------------------------------------------------------
    def log_in(self, g: int) -> int:
        """A new agent of group g logs in: its number (in log-in order over the day, per group)."""
        self.next_agent[g] += 1
        return self.next_agent[g] - 1

    def idle_push(self, g: int, a: int):
        self.idle[g].append(self.env.now)
        self.idle_ids[g].append(a)

    def idle_pop(self, g: int) -> int:
        """The longest-idle agent of group g stops being idle; its number."""
        self.idle[g].popleft()
        return self.idle_ids[g].popleft()

    # ------------------------------------------------------------------
    # processes
    # ------------------------------------------------------------------
    def next_arrival(self, s: int) -> float:
        """Exact non-homogeneous Poisson: spend one unit exponential across the rates."""
        cs = self.cs
        e = self.arrival_rng[s].standard_exponential()
        t, p = self.arr_t[s], self.arr_p[s]
        while p < cs.n_intervals:
            r = float(cs.stream_rate[s, p]) * self.volume
            end = (p + 1) * cs.interval_s
            if r > 0.0:
                cap = r * (end - t)
                if e < cap:
                    self.arr_p[s] = p
                    return t + e / r
                e -= cap
            t = end
            p += 1
        self.arr_p[s] = p
        return math.inf

    def arrivals(self, s: int):
        """Arrival stream s: sleep to the next arrival, schedule the one after, handle the caller."""
        t = self.next_arrival(s)
        if t >= self.horizon_s or t >= self.cs.closing_s:
            return
        self.arr_t[s] = t
        yield self.env.timeout(t - self.env.now)
        while True:
            self.n_events += 1
            t = self.next_arrival(s)
            following = None
            if t < self.horizon_s and t < self.cs.closing_s:
                self.arr_t[s] = t
                following = self.env.timeout(t - self.env.now)
            self.arrive(s)
            if following is None:
                return
            yield following

    def arrive(self, s: int):
        cs, rng = self.cs, self.rng
        self.n_arrivals += 1
        l = self.categorical(rng["tier"], cs.stream_tier_cum[s])
        entry = int(cs.stream_entry[s])
        outcome, ivr_t = ROUTED, 0.0
        if entry == IVR_ENTRY:
            ivr_t = self.sample("ivr_time", cs.ivr_time_dist)
            u = rng["ivr_outcome"].random()
            if u < cs.ivr_cut_contained:
                outcome = CONTAINED
            elif u < cs.ivr_cut_hangup:
                outcome = HANGUP
            k = self.categorical(rng["menu"], cs.menu_cum[l])
        else:
            k = entry
        key = int(rng["talk"].bit_generator.random_raw())         # the caller's own stream
        self.admit(Call(k, l, entry == IVR_ENTRY, caller=self.n_arrivals - 1, stream=s, key=key), outcome, ivr_t)

    def admit(self, call: Call, outcome=ROUTED, ivr_t=None):
        """An attempt reaches the trunks: blocked, or it seizes a line and goes on to the IVR or the queue.

        Redials and repeat calls draw their IVR time only once admitted, and
        after the menu go to their call type's queue.
        """
        cs, now, st = self.cs, self.env.now, self.stats
        counted = now >= cs.warmup_s
        ix = (self.p_cur, call.k, call.l)
        if counted:
            st["offered"][ix] += 1
            if call.kind == REDIAL:
                st["redials"][ix] += 1
            elif call.kind == REPEAT:
                st["repeats"][ix] += 1
        if self.limited and self.lines.count >= cs.trunks:
            if counted:
                st["blocked"][ix] += 1
            if self.log is not None:
                self.log.append((now, now, 0.0, 0.0, 0.0, 0.0, 0.0, call.caller, call.attempts, call.kind,
                                 call.stream, LEG_FIRST, call.k, call.l, BLOCKED_, -1, -1))
            self.maybe_redial(call, blocked=True)
            return
        if outcome == UNHEARD:          # a redial after a block: the IVR's draws, as for a first attempt
            ivr_t = self.draw(call.gen, cs.ivr_time_dist)
            u = call.gen.random()
            outcome = CONTAINED if u < cs.ivr_cut_contained else (HANGUP if u < cs.ivr_cut_hangup else ROUTED)
        call.admitted(now, self.p_cur, outcome, counted)
        call.line = self.seize_line()
        self.live.add(call)
        if call.ivr_entry:
            if ivr_t is None:
                ivr_t = self.draw(call.gen, cs.ivr_time_dist)
            call.ivr_s = ivr_t
            call.state = IN_IVR
            self.env.process(self.caller(call, self.env.timeout(ivr_t)))
        else:
            self.enter_queue(call)
            self.env.process(self.caller(call, None))

    def maybe_redial(self, call: Call, blocked: bool = False):
        """A blocked or abandoning caller calls again with probability redial_prob of its call type.

        A caller blocked at the trunks never heard the IVR: its redial goes through self-service and
        menu hang-ups like a first attempt; one who abandoned in the queue goes to its queue after the menu."""
        cs, k = self.cs, call.k
        decide = call.gen
        if cs.redial_memory[k]:         # replayed streams repeat themselves: decide from a stream of its own
            core = _kernel()
            decide = call_stream(core.derive_stream(call.gen.bit_generator.stream_state,
                                                    core.STREAM_SALTS["redial"] + call.attempts))
        if cs.redial_prob[k] > 0.0 and call.attempts < cs.redial_max[k] and decide.random() < cs.redial_prob[k]:
            delay = self.draw(decide, int(cs.redial_dist[k]))
            call.gen = derived(call.gen, "redial")
            call.kind, call.attempts, call.state = REDIAL, call.attempts + 1, RETRY
            call.ivr_outcome = UNHEARD if (blocked and call.ivr_entry) else ROUTED
            self.env.process(self.call_again(call, self.env.timeout(delay)))

    def call_again(self, call: Call, delay_done):
        yield delay_done
        self.n_events += 1
        if self.closed:                 # the center has closed: not admitted, not counted
            call.state = DONE
            return
        self.admit(call, call.ivr_outcome)

    def caller(self, call: Call, ivr_done):
        """One caller on one line, from the IVR to hang-up (through a transfer if there is one)."""
        if ivr_done is not None:
            yield ivr_done
            self.n_events += 1
            if call.ivr_outcome != ROUTED:
                self.leave_ivr(call)
                return
            self.enter_queue(call)
        while True:
            if call.state == WAITING:
                if call.patience is None:
                    yield call.answered
                else:
                    yield call.answered | call.patience
                if call.state == WAITING:           # patience ran out first
                    self.n_events += 1
                    self.abandon(call)
                    return
            if call.leg == LEG_OUTBOUND or call.state != IN_SERVICE:   # hung up to take a callback
                return
            yield call.service_done
            self.n_events += 1
            if not self.end_of_talk(call):
                return

    def interval_clock(self):
        """Interval borders k * interval_s: close the interval, apply the next headcount."""
        for p in range(1, self.cs.n_intervals):
            yield self.env.timeout(p * self.cs.interval_s - self.env.now)
            self.n_events += 1
            self.interval_start(p)

    def after_call_work(self, g: int, a: int, done):
        yield done
        self.n_events += 1
        self.agent_free(g, a)

    # ------------------------------------------------------------------
    # what happens at each event
    # ------------------------------------------------------------------
    def release(self, call: Call):
        self.lines_level()
        self.lines.release(call.line)
        self.live.discard(call)
        call.state = DONE

    def leave_ivr(self, call: Call):
        key = "contained" if call.ivr_outcome == CONTAINED else "ivr_abandoned"
        if call.counted:
            self.stats[key][call.p, call.k, call.l] += 1
        self.record(call, CONTAINED_ if key == "contained" else IVR_ABANDONED_)
        self.release(call)

    def enter_queue(self, call: Call):
        """Answered at once, turned away (closed queue, full queue, balking), or waiting with its timers."""
        cs, now, st = self.cs, self.env.now, self.stats
        call.t_queue = now
        call.answered = call.patience = call.overflow = call.offer = call.maxwait = None
        first = call.leg == LEG_FIRST
        ix = (call.p, call.k, call.l)
        if first:
            if cs.redial_memory[call.k] and call.kind == REDIAL and call.rng_mem != 0:
                call.gen = call_stream(call.rng_mem)   # the same caller: the same patience and service draws
            else:
                call.rng_mem = call.gen.bit_generator.stream_state
        patience = self.draw(call.gen, int(cs.patience_dist[call.k, call.l])) * cs.patience_scale[call.p, call.k]
        call.q = self.router.queue_for(call)
        g = self.router.pick_group(call, False)
        if g < 0 and not first and ((self.closed and cs.closing_mode == CLOSE_CLEAR) or (
                cs.unstaffed_disconnect and not self.on_duty_for(call.k)) or (
                cs.queue_capacity[call.k] >= 0 and self.waiting_of(call.k) >= cs.queue_capacity[call.k])):
            if call.counted:
                st["transfer_disconnected"][ix] += 1
            self.record(call, DISCONNECTED_)
            self.release(call)
            return
        if g < 0 and first:
            if (self.closed and cs.closing_mode == CLOSE_CLEAR) or (cs.unstaffed_disconnect
                                                                    and not self.on_duty_for(call.k)):
                if call.counted:
                    st["queued"][ix] += 1
                    st["disconnected"][ix] += 1
                self.record(call, DISCONNECTED_)
                self.release(call)
                return
            if cs.queue_capacity[call.k] >= 0 and self.waiting_of(call.k) >= cs.queue_capacity[call.k]:
                if call.counted:
                    st["queue_full"][ix] += 1
                self.record(call, QUEUE_FULL_)
                self.release(call)
                self.maybe_redial(call)
                return
            if self.any_balking:
                nb = cs.balk_prob.shape[2]
                prob = float(cs.balk_prob[call.k, call.l, min(self.waiting_of(call.k), nb - 1)])
                if prob > 0.0 and call.gen.random() < prob:
                    if call.counted:
                        for key in ("queued", "abandoned", "balked"):
                            st[key][ix] += 1
                        if cs.short_abandon_s > 0.0:
                            st["abandoned_short"][ix] += 1
                    self.record(call, BALKED_)
                    self.release(call)
                    self.maybe_redial(call)
                    return
        if call.counted and first:
            st["queued"][ix] += 1
        if g >= 0:
            self.answer(call, g, self.idle_pop(g))
            return
        call.state = WAITING
        call.answered = self.env.event()
        self.queues[call.q][call.l][call] = None
        self.queue_change(+1)
        if patience < math.inf:
            call.patience = self.env.timeout(patience)
        if cs.use_overflow and cs.overflow_after_s[call.q] < math.inf:
            call.overflow = self.env.timeout(cs.overflow_after_s[call.q])
            self.env.process(self.offer_to_secondary(call, call.overflow))
        if first and cs.cb_offer_after_s[call.k] < math.inf:
            call.offer = self.env.timeout(cs.cb_offer_after_s[call.k])
            self.env.process(self.offer_callback(call, call.offer))
        if first and cs.max_wait_s[call.k] < math.inf:
            call.maxwait = self.env.timeout(cs.max_wait_s[call.k])
            self.env.process(self.max_wait(call, call.maxwait))

    def waiting_of(self, k: int) -> int:
        """Callers of call type k waiting now (in whatever queue the router put them)."""
        return sum(1 for q in self.queues for tier in q for c in tier if c.k == k)

    def max_wait(self, call: Call, limit):
        """The caller has waited max_wait: sent to a message (and, with ``callback``, called back later),
        or disconnected."""
        yield limit
        self.n_events += 1
        if call.state != WAITING or call.maxwait is not limit:
            return
        del self.queues[call.q][call.l][call]
        self.queue_change(-1)
        action = int(self.cs.max_wait_action[call.k])
        message = action != MAX_WAIT_ACTIONS["disconnect"]
        if call.counted:
            self.stats["messages" if message else "disconnected"][call.p, call.k, call.l] += 1
        self.record(call, MESSAGE_ if message else DISCONNECTED_, self.env.now - call.t_queue)
        if action == MAX_WAIT_ACTIONS["callback"]:
            self.lines_level()
            self.lines.release(call.line)
            self.await_callback(call)
            return
        self.release(call)

    def closing_clock(self):
        """At closing: no more arrivals; with ``clear``, every waiting caller is disconnected
        (call type by call type, tier by tier, oldest first)."""
        yield self.env.timeout(self.cs.closing_s)
        self.n_events += 1
        self.closed = True
        if self.cs.closing_mode == CLOSE_CLEAR:
            self.clear_at_closing()

    def clear_at_closing(self):
        self.closed = True
        for k in range(self.cs.n_types):
            for l in range(self.cs.n_tiers):
                self.disconnect_queue(k, l)

    def disconnect_queue(self, q: int, l: int):
        """Every caller waiting in queue (q, l) is disconnected, oldest first (a transferred leg counts
        as a transfer abandoned)."""
        now = self.env.now
        for call in list(self.queues[q][l]):
            del self.queues[q][l][call]
            self.queue_change(-1)
            if call.leg == LEG_FIRST:
                if call.counted:
                    self.stats["disconnected"][call.p, call.k, call.l] += 1
                self.record(call, DISCONNECTED_, now - call.t_queue)
            elif call.counted:
                self.stats["transfer_disconnected"][call.p, call.k, call.l] += 1
            self.release(call)

    def on_duty_for(self, k: int) -> bool:
        """Whether some agent of a group serving call type k is on duty (agents on their way out at a
        headcount drop do not count)."""
        cs = self.cs
        return any(self.present[g] - self.pending_leave[g] > 0
                   for g in cs.type_groups[cs.type_groups_ptr[k]:cs.type_groups_ptr[k + 1]])

    def offer_callback(self, call: Call, offer):
        """Virtual hold: after a wait the caller may accept a callback, hang up and be called back."""
        cs, now = self.cs, None
        yield offer
        self.n_events += 1
        if call.state != WAITING or call.offer is not offer:
            return
        if call.gen.random() >= cs.cb_accept[call.k]:
            return
        now = self.env.now
        del self.queues[call.q][call.l][call]
        self.queue_change(-1)
        self.lines_level()
        self.lines.release(call.line)
        if call.counted:
            self.stats["callbacks"][call.p, call.k, call.l] += 1
        self.record(call, CALLBACK_, now - call.t_queue)
        self.await_callback(call)

    def await_callback(self, call: Call):
        """The caller (off the line now) joins its call type's callback list; idle agents may call back."""
        call.state = CALLBACK
        call.t_queue = self.env.now     # the callback clock starts now
        self.callbacks[call.k][call] = None
        self.dispatch_outbound()

    def offer_to_secondary(self, call: Call, threshold):
        """After its overflow threshold a waiting call may be taken by secondary groups."""
        yield threshold
        self.n_events += 1
        if call.state != WAITING or call.overflow is not threshold:
            return
        g = self.router.pick_group(call, True)
        if g >= 0:
            a = self.idle_pop(g)
            del self.queues[call.q][call.l][call]
            self.queue_change(-1)
            self.answer(call, g, a)

    def abandon(self, call: Call):
        wait = self.env.now - call.t_queue
        del self.queues[call.q][call.l][call]
        self.queue_change(-1)
        ix = (call.p, call.k, call.l)
        if call.leg == LEG_FIRST:
            call.wait_prev += wait
        if call.leg != LEG_FIRST:
            if call.counted:
                self.stats["transfer_abandoned"][ix] += 1
            self.release(call)
            return
        if call.counted:
            self.stats["abandoned"][ix] += 1
            self.stats["abandon_wait_s"][ix] += wait
            if wait < self.cs.short_abandon_s:
                self.stats["abandoned_short"][ix] += 1
        self.record(call, ABANDONED_, wait)
        self.release(call)
        self.maybe_redial(call)

    def answer(self, call: Call, g: int, a: int):
        """Agent a of group g answers the call."""
        cs, now, st = self.cs, self.env.now, self.stats
        wait = now - call.t_queue
        gen = call.gen          # the call's own stream: talk, HOLD, ACW, transfer or resolution, quality
        talk = self.draw(gen, int(cs.talk_dist[call.k, g])) * cs.talk_scale[call.p, call.k]
        hold = 0.0
        if gen.random() < cs.hold_prob[call.k, g]:
            hold = self.draw(gen, int(cs.hold_dist[call.k, g]))
        acw = self.draw(gen, int(cs.acw_dist[call.k, g]))
        call.g, call.agent = g, a
        call.acw_s = acw
        call.state = IN_SERVICE
        call.transfer_to, call.repeat_delay_s = -1, -1.0
        if cs.transfer_prob[call.k, g] > 0.0 and gen.random() < cs.transfer_prob[call.k, g]:
            call.transfer_to = (self.categorical(gen, cs.transfer_cum[call.k]) if cs.transfer_multi[call.k]
                                else int(cs.transfer_to[call.k]))
        elif cs.fcr[call.k, g] < 1.0 and gen.random() >= cs.fcr[call.k, g]:
            call.repeat_delay_s = self.draw(gen, int(cs.repeat_dist[call.k]))
            if call.counted:
                st["unresolved"][call.p, call.k, call.l] += 1
        call.quality = 0
        if call.transfer_to < 0 and cs.quality_share[call.k] > 0.0 and \
                gen.random() < cs.quality_share[call.k]:
            call.quality = 1
        call.conf_s, call.conf_acw = 0.0, 0
        if cs.conf_prob[call.k] > 0.0 and gen.random() < cs.conf_prob[call.k]:
            call.conf_s = self.draw(gen, int(cs.conf_dist[call.k]))
        if call.leg != LEG_FIRST:
            if call.counted:
                st["transfer_answered"][call.p, call.k, call.l] += 1
        elif call.counted:
            ix = (call.p, call.k, call.l, g)
            st["answered"][ix] += 1
            if wait <= cs.sl_threshold_k[call.k]:
                st["answered_within"][ix] += 1
            if call.wait_prev + wait <= cs.sl_threshold_k[call.k]:
                st["answered_within_total"][ix] += 1
            st["wait_s"][ix] += wait
            st["wait_max_s"][ix] = max(st["wait_max_s"][ix], wait)
            st["talk_s"][ix] += talk
            st["wait_hist"][call.k, math.ceil(wait) if wait < WAIT_BINS - 1 else WAIT_BINS - 1] += 1
            if hold > 0.0:
                st["held"][ix] += 1
                st["hold_s"][ix] += hold
            st["acw_s"][ix] += acw
        self.record(call, ANSWERED_, wait, g, talk, hold, acw)
        service = talk + hold
        self.add_busy(st["service_busy_s"], g, now, now + service)
        if acw > 0.0 and call.conf_s == 0.0:    # with a conference due, ACW is booked when the call ends
            self.add_busy(st["acw_busy_s"], g, now + service, now + service + acw)
        call.service_done = self.env.timeout(service)
        if call.answered is not None:
            call.answered.succeed(g)

    def conference(self, call: Call) -> bool:
        """Talk and HOLD are over and a conference is due: an idle agent who serves the other call type joins
        for its duration (both busy), or, with none idle, the conference is skipped. True when it is held."""
        cs, now, st = self.cs, self.env.now, self.stats
        d, call.conf_s = call.conf_s, 0.0
        other = Call(int(cs.conf_with[call.k]), call.l, False)
        other.q = other.k
        g2 = self.router.pick_group(other, True)
        ix = (call.p, call.k, call.l)
        if g2 < 0:
            if call.counted:
                st["conferences_missed"][ix] += 1
            return False
        a2 = self.idle_pop(g2)
        if call.counted:
            st["conferences"][ix] += 1
            st["conference_s"][ix] += d
        self.add_busy(st["service_busy_s"], g2, now, now + d)
        self.add_busy(st["service_busy_s"], call.g, now, now + d)
        self.env.process(self.after_call_work(g2, a2, self.env.timeout(d)))     # the second agent is free again
        call.service_done = self.env.timeout(d)
        return True

    def end_of_talk(self, call: Call) -> bool:
        """Talk and hold are over: transfer, hang up (perhaps to call again), agent to ACW.

        Returns True when the caller stays on the line (transferred).
        """
        g, a, acw = call.g, call.agent, call.acw_s
        now = self.env.now
        if call.conf_s > 0.0 and call.leg != LEG_OUTBOUND:
            if self.conference(call):
                call.conf_acw = 1       # the agent's ACW starts when the conference ends
                return True
            if acw > 0.0:
                self.add_busy(self.stats["acw_busy_s"], g, now, now + acw)
        elif call.conf_acw:
            call.conf_acw = 0
            if acw > 0.0:
                self.add_busy(self.stats["acw_busy_s"], g, now, now + acw)
        quality = call.quality
        if quality:
            self.pending[0] += 1            # a quality call-back is due on this call
        stays = call.transfer_to >= 0
        if stays:
            if call.counted:
                self.stats["transferred"][call.p, call.k, call.l] += 1
            call.k, call.transfer_to, call.leg, call.g = call.transfer_to, -1, LEG_TRANSFER, -1
            call.gen = derived(call.gen, "transfer")
            self.enter_queue(call)
        elif call.repeat_delay_s >= 0.0:
            self.release(call)
            call.kind, call.attempts, call.state = REPEAT, 1, RETRY
            call.gen = derived(call.gen, "repeat")
            call.rng_mem, call.wait_prev = 0, 0.0             # a new problem
            self.env.process(self.call_again(call, self.env.timeout(call.repeat_delay_s)))
        else:
            self.release(call)
        self.agent_done(g, a, acw)
        if quality:
            self.dispatch_outbound()
        return stays

    # ------------------------------------------------------------------
    # outbound work, blended with inbound
    # ------------------------------------------------------------------
    def take_outbound(self, g: int, a: int, idle_left: int) -> bool:
        """Agent a of group g, with no inbound call to take, starts outbound work if blending allows.

        Only while at most blend_max_queue inbound calls wait, at least
        blend_min_idle other agents of the group stay idle and a line is
        free: callbacks first (oldest), then quality call-backs, then campaigns.
        """
        cs = self.cs
        if self.n_waiting > cs.blend_max_queue or idle_left < cs.blend_min_idle or self.past_horizon:
            return False
        if self.limited and self.lines.count >= cs.trunks:
            return False
        best, best_t = None, math.inf
        for j in range(cs.group_types_ptr[g], cs.group_types_ptr[g + 1]):
            waiting = self.callbacks[int(cs.group_types[j])]
            if waiting:
                head = next(iter(waiting))
                if head.t_queue < best_t:
                    best, best_t = head, head.t_queue
        if best is not None:
            self.serve_callback(best, g, a)
            return True
        for w in range(cs.n_tasks):
            if self.pending[w] > 0 and cs.out_groups[w, g]:
                self.serve_task(w, g, a)
                return True
        return False

    def serve_callback(self, call: Call, g: int, a: int):
        cs, now, st = self.cs, self.env.now, self.stats
        del self.callbacks[call.k][call]
        wait = now - call.t_queue
        talk = self.draw(call.gen, int(cs.talk_dist[call.k, g])) * cs.talk_scale[call.p, call.k]
        hold = 0.0
        if call.gen.random() < cs.hold_prob[call.k, g]:
            hold = self.draw(call.gen, int(cs.hold_dist[call.k, g]))
        acw = self.draw(call.gen, int(cs.acw_dist[call.k, g]))
        call.agent = a
        self.record(call, CALLED_BACK_, wait, g, talk, hold, acw)
        if call.counted:
            ix = (call.p, call.k, call.l)
            st["callbacks_done"][ix] += 1
            st["callback_wait_s"][ix] += wait
            if wait <= cs.cb_within_s[call.k]:
                st["callbacks_within"][ix] += 1
        self.outbound_start(call, g, a, talk + hold, acw)

    def serve_task(self, w: int, g: int, a: int):
        cs = self.cs
        self.pending[w] -= 1
        task = Call(0, 0, False)
        task.counted = False
        talk = self.sample("outbound", int(cs.out_talk_dist[w]))
        acw = self.sample("outbound", int(cs.out_acw_dist[w]))
        self.stats["outbound_done"][self.p_cur, w] += 1
        self.outbound_start(task, g, a, talk, acw)

    def outbound_start(self, call: Call, g: int, a: int, talk: float, acw: float):
        now, st = self.env.now, self.stats
        call.line = self.seize_line()
        call.g, call.agent, call.acw_s, call.state = g, a, acw, IN_SERVICE
        call.transfer_to, call.repeat_delay_s, call.quality, call.leg = -1, -1.0, 0, LEG_OUTBOUND
        self.add_busy(st["service_busy_s"], g, now, now + talk)
        self.add_busy(st["outbound_busy_s"], g, now, now + talk)
        if acw > 0.0:
            self.add_busy(st["acw_busy_s"], g, now + talk, now + talk + acw)
            self.add_busy(st["outbound_busy_s"], g, now + talk, now + talk + acw)
        self.env.process(self.outbound_call(call, self.env.timeout(talk)))

    def outbound_call(self, call: Call, done):
        yield done
        self.n_events += 1
        self.end_of_talk(call)

    # ------------------------------------------------------------------
    # predictive dialer
    # ------------------------------------------------------------------
    def schedule_dialer(self, p: int):
        """At the start of interval p: the dialer's switch-on, if it falls in this interval (so that a
        switch-on at an interval border comes after that interval's headcount change)."""
        cs = self.cs
        if cs.dialer and p * cs.interval_s <= cs.dl_from_s < (p + 1) * cs.interval_s:
            self.env.process(self.dialer_clock())

    def dialer_clock(self):
        yield self.env.timeout(self.cs.dl_from_s - self.env.now)
        self.n_events += 1
        self.dl_active = True
        self.dial()

    def dial(self):
        """Dial round(ratio x idle dialler agents) + extra numbers, less the dials in progress, while at
        least dl_min_idle agents are idle in all groups and one in the dialler groups, and lines are free.
        Each dial draws from the dialer's stream: reached or not, then the dialling time."""
        cs, now, st = self.cs, self.env.now, self.stats
        if now >= cs.dl_to_s or self.past_horizon:
            self.dl_active = False
            return
        idle_all = sum(len(q) for q in self.idle)
        idle_dl = sum(len(q) for g, q in enumerate(self.idle) if cs.dl_groups[g])
        if idle_all < cs.dl_min_idle or idle_dl < 1:
            return
        gen = self.rng["dialer"]
        for _ in range(int(cs.dl_ratio * idle_dl + 0.5) + cs.dl_extra - self.dl_pending):
            if self.limited and self.lines.count >= cs.trunks:
                return
            call = Call(0, 0, False)
            call.line = self.seize_line()
            call.t_arrive = call.t_queue = now
            call.p, call.g, call.leg = self.p_cur, -1, LEG_OUTBOUND
            call.counted = now >= cs.warmup_s
            call.reached = gen.random() < cs.dl_reach[self.p_cur]
            if call.counted:
                st["dials"][self.p_cur] += 1
            dt = self.draw(gen, cs.dl_time_dist)
            if dt > 0.0:
                call.state = DIALING
                self.dl_pending += 1
                self.env.process(self.dial_through(call, self.env.timeout(dt)))
            else:
                call.state = DIALED
                self.dial_end(call)

    def dial_through(self, call: Call, done):
        yield done
        self.n_events += 1
        self.dial_end(call)

    def dial_end(self, call: Call):
        """No answer (the line is freed), or the right party answers: patience, talk and ACW drawn now
        (dialer stream, in this order); the longest-idle agent of the dialler groups takes it (ties: the
        group listed first), or it waits for one at most its patience."""
        cs, st = self.cs, self.stats
        if call.state == DIALING:
            self.dl_pending -= 1
        if not call.reached:
            self.release(call)
            return
        if call.counted:
            st["dial_contacts"][call.p] += 1
        patience = self.sample("dialer", cs.dl_patience_dist)
        call.talk_s = self.sample("dialer", cs.dl_talk_dist)
        call.acw_s = self.sample("dialer", cs.dl_acw_dist)
        call.t_queue = self.env.now
        best, best_t = -1, math.inf
        for g in range(cs.n_groups):
            if cs.dl_groups[g] and self.idle[g] and (best < 0 or self.idle[g][0] < best_t):
                best, best_t = g, self.idle[g][0]
        if best >= 0:
            self.dial_serve(call, best, self.idle_pop(best))
            return
        if patience <= 0.0:
            if call.counted:
                st["mismatches"][call.p] += 1
            self.release(call)
            return
        call.state = DIALED
        self.dl_waiting[call] = None
        call.mismatch = None
        if patience < math.inf:
            call.mismatch = self.env.timeout(patience)
            self.env.process(self.dial_patience(call, call.mismatch))

    def dial_patience(self, call: Call, limit):
        """A reached party has waited its patience with no agent: the dialer drops it (a mismatch)."""
        yield limit
        self.n_events += 1
        if call.state != DIALED or call.mismatch is not limit:
            return
        del self.dl_waiting[call]
        if call.counted:
            self.stats["mismatches"][call.p] += 1
        self.release(call)

    def dial_serve(self, call: Call, g: int, a: int):
        """Agent a of group g talks to a reached party (its line is already held)."""
        if call.counted:
            self.stats["dial_served"][call.p] += 1
        self.lines_level()
        self.lines.release(call.line)       # outbound_start seizes the line again
        self.outbound_start(call, g, a, call.talk_s, call.acw_s)

    def dispatch_outbound(self):
        """New outbound work: idle agents (group order, longest idle first) take what blending allows."""
        for g in range(self.cs.n_groups):
            while self.idle[g] and self.take_outbound(g, self.idle_ids[g][0], len(self.idle[g]) - 1):
                self.idle_pop(g)

    def add_campaign_tasks(self, p: int):
        added = False
        for w in range(self.cs.n_tasks):
            if self.cs.campaign_calls[p, w] > 0:
                self.pending[w] += int(self.cs.campaign_calls[p, w])
                added = True
        if added:
            self.dispatch_outbound()

    def agent_done(self, g: int, a: int, acw: float):
        if acw > 0.0:
            self.env.process(self.after_call_work(g, a, self.env.timeout(acw)))
        else:
            self.agent_free(g, a)

    def take_work(self, g: int, a: int):
        """Available agent a of group g: a reached party of the dialer (dialler groups), else a waiting
        call, else outbound work, else idle."""
        if self.dl_waiting and self.cs.dl_groups[g]:
            call = next(iter(self.dl_waiting))
            del self.dl_waiting[call]
            self.dial_serve(call, g, a)
            return
        call = self.router.pick_call(g)
        if call is not None:
            del self.queues[call.q][call.l][call]
            self.queue_change(-1)
            self.answer(call, g, a)
        elif not self.take_outbound(g, a, len(self.idle[g])):
            self.idle_push(g, a)

    def agent_free(self, g: int, a: int):
        """Agent a of group g has finished a call (and its ACW): leaves if due, else takes work; then the
        dialer, if on, dials for the agents now idle."""
        if self.pending_leave[g] > 0:
            self.pending_leave[g] -= 1
            self.staff_change(g, -1)
        else:
            self.take_work(g, a)
        if self.dl_active:
            self.dial()

    def interval_start(self, p: int):
        """Close interval p - 1; move each group to the headcount of interval p."""
        st = self.stats
        self.lines_level()
        self.queue_change(0)
        for g in range(self.cs.n_groups):
            self.staff_change(g, 0)
        self.p_cur = p
        st["lines_peak"][p] = self.lines.count
        st["queue_peak"][p] = self.n_waiting
        for g in range(self.cs.n_groups):
            diff = int(self.cs.headcount[p, g]) - (self.present[g] - self.pending_leave[g])
            if diff < 0:
                d = -diff
                while d > 0 and self.idle[g]:
                    self.idle_pop(g)
                    self.staff_change(g, -1)
                    d -= 1
                self.pending_leave[g] += d
            elif diff > 0:
                d = min(diff, self.pending_leave[g])
                self.pending_leave[g] -= d
                for _ in range(diff - d):
                    self.staff_change(g, +1)
                    self.take_work(g, self.log_in(g))
        if self.cs.use_overflow:
            self.offer_unguarded()
        if self.cs.unstaffed_disconnect:
            for k in range(self.cs.n_types):
                if not self.on_duty_for(k):
                    for l in range(self.cs.n_tiers):
                        self.disconnect_queue(k, l)
        self.add_campaign_tasks(p)
        self.schedule_dialer(p)

    def offer_unguarded(self):
        """At an interval start: the waiting calls of every type with no primary agent on duty are
        offered to its secondary groups at once (tier by tier, oldest first)."""
        for k in range(self.cs.n_types):
            if self.cs.overflow_after_s[k] == math.inf or self.router.overflow_holds(k):
                continue
            for l in range(self.cs.n_tiers):
                for call in list(self.queues[k][l]):
                    g = self.router.pick_group(call, True)
                    if g < 0:
                        break
                    a = self.idle_pop(g)
                    del self.queues[call.q][call.l][call]
                    self.queue_change(-1)
                    self.answer(call, g, a)

    def close_books(self):
        """Close the time-weighted levels (lines, queue, agents) of the last interval at the horizon."""
        self.lines_level()
        self.queue_change(0)
        for g in range(self.cs.n_groups):
            self.staff_change(g, 0)

    def finish(self):
        """At the end: close the last interval (unless done at the horizon), count calls still in the system."""
        if self.cs.closing_mode == CLOSE_CLEAR and not self.closed and self.cs.closing_s <= self.horizon_s:
            self.clear_at_closing()     # a closing at the horizon still clears the queue
        if not self.past_horizon:
            self.close_books()
        for call in self.live:
            if call.counted and call.leg == LEG_FIRST and call.state in (IN_IVR, WAITING):
                key = "in_ivr_end" if call.state == IN_IVR else "in_queue_end"
                self.stats[key][call.p, call.k, call.l] += 1
        for waiting in self.callbacks:
            for call in waiting:
                if call.counted:
                    self.stats["callbacks_end"][call.p, call.k, call.l] += 1
        self.stats["outbound_end"][:] = self.pending



def run(cs: CompiledScenario, arrival_bitgens, source_bitgens, stats: dict, volume: float = 1.0,
        call_log: bool = False, router: Router | None = None) -> dict:
    """Run one replication on SimPy; same inputs and outputs as ``simcc.engine._core.run``.

    ``stats`` (``simcc.engine.contract.new_stats(cs)``) is filled in place.
    ``router`` replaces the compiled routing policy by a Python one (see
    :class:`simcc.engine.routing.Router`).
    """
    env = simpy.Environment()
    center = CallCenter(env, cs, arrival_bitgens, source_bitgens, volume, call_log, router, stats)
    env.run(until=center.horizon_s)
    if cs.closing_mode == CLOSE_SERVE:     # serve until empty: the calls in the system go on past the horizon
        center.close_books()
        center.past_horizon = True
        env.run()
    center.finish()
    out = {"n_events": center.n_events, "n_arrivals": center.n_arrivals}
    if call_log:
        out["call_log"] = np.array(center.log, dtype=LOG_DTYPE)
    return out
