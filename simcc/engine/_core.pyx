# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""simcc's event kernel.

One ``def`` (:func:`run`) reads a compiled scenario (flat numpy arrays, see
``simcc.engine.compile``) and one numpy BitGenerator per random source, releases the
GIL and runs the event loop over C structs. :func:`start_day` gives the same day as a
:class:`Day` that stops at interval borders, copies itself and goes on (staffing
searches judge candidates from the plan's day standing at a border). The model, the tie rule and the
points where random numbers are drawn are those of DESIGN.md and are shared,
line for line, with the SimPy reference in ``simcc.engine.reference``.
"""
import numpy as np
cimport numpy as cnp

from .contract import LOG_DTYPE
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy, memset
from libc.math cimport INFINITY, ceil, sqrt
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from cpython.pycapsule cimport PyCapsule_New
from numpy.random.bit_generator cimport BitGenerator

from numpy.random cimport bitgen_t
from numpy.random.c_distributions cimport (
    random_standard_exponential, random_lognormal, random_gamma, random_weibull)

cnp.import_array()

# The kernel's own tables, checked against simcc.engine.contract (tests/engine/test_contract.py).
SOURCE_IDS = {
    "arrival": SRC_ARRIVAL, "tier": SRC_TIER, "ivr_time": SRC_IVR_TIME,
    "ivr_outcome": SRC_IVR_OUTCOME, "menu": SRC_MENU, "patience": SRC_PATIENCE,
    "talk": SRC_TALK, "hold_flag": SRC_HOLD_FLAG, "hold_time": SRC_HOLD_TIME,
    "acw": SRC_ACW, "volume": SRC_VOLUME, "redial": SRC_REDIAL, "repeat": SRC_REPEAT,
    "transfer": SRC_TRANSFER, "callback": SRC_CALLBACK, "outbound": SRC_OUTBOUND, "balk": SRC_BALK,
    "route": SRC_ROUTE, "dialer": SRC_DIALER,
}
DIST_CODES = {
    "deterministic": D_DETERMINISTIC, "exponential": D_EXPONENTIAL,
    "uniform": D_UNIFORM, "lognormal": D_LOGNORMAL, "gamma": D_GAMMA,
    "weibull": D_WEIBULL, "empirical": D_EMPIRICAL, "never": D_NEVER, "triangular": D_TRIANGULAR,
}
OUTCOMES = {
    "blocked": OUT_BLOCKED, "contained": OUT_CONTAINED,
    "ivr_abandoned": OUT_IVR_ABANDONED, "answered": OUT_ANSWERED,
    "abandoned": OUT_ABANDONED, "callback": OUT_CALLBACK, "called_back": OUT_CALLED_BACK,
    "balked": OUT_BALKED, "message": OUT_MESSAGE, "disconnected": OUT_DISCONNECTED, "queue_full": OUT_QUEUE_FULL,
}
CALL_KINDS = {"first": KIND_FIRST, "redial": KIND_REDIAL, "repeat": KIND_REPEAT}
CLOSING_MODES = {"none": CLOSE_NONE, "serve": CLOSE_SERVE, "clear": CLOSE_CLEAR}
MAX_WAIT_ACTIONS = {"message": MW_MESSAGE, "disconnect": MW_DISCONNECT, "callback": MW_CALLBACK}
AGENT_RULES = {"longest_idle": AGENT_LONGEST_IDLE, "random": AGENT_RANDOM, "group_order": AGENT_GROUP_ORDER}
LEGS = {"first": LEG_FIRST, "transfer": LEG_TRANSFER, "outbound": LEG_OUTBOUND}
CHOICE_CODES = {"priority": POL_PRIORITY, "weighted_wait": POL_WEIGHTED_WAIT}
N_WAIT_BINS = WAIT_BINS
N_SOURCE_IDS = N_SOURCES
#: The statistics arrays run() fills, by name (bound in _bind_stats).
STAT_NAMES = (
    "offered", "blocked", "contained", "ivr_abandoned", "queued", "abandoned", "abandoned_short",
    "balked", "messages", "disconnected", "queue_full", "conferences", "conferences_missed", "conference_s",
    "in_ivr_end", "in_queue_end", "redials", "repeats", "unresolved", "transferred",
    "transfer_answered", "transfer_abandoned", "transfer_disconnected", "callbacks", "callbacks_done",
    "callbacks_within",
    "callbacks_end", "abandon_wait_s", "callback_wait_s", "outbound_done", "outbound_end",
    "dials", "dial_contacts", "dial_served", "mismatches", "wait_hist",
    "answered", "answered_within", "answered_within_total", "held", "wait_s", "wait_max_s", "talk_s", "hold_s", "acw_s",
    "staffed_s", "service_busy_s", "acw_busy_s", "outbound_busy_s", "lines_s", "queue_s",
    "lines_peak", "queue_peak",
)


# ----------------------------------------------------------------------------
# Kernel state: everything the loop touches, as one C struct.
# ----------------------------------------------------------------------------
ctypedef struct State:
    # dimensions
    int32_t P, K, L, G, S
    float64_t interval_s
    float64_t horizon_s
    float64_t warmup_s
    float64_t* sl_threshold_k       # [K] answered within this wait counts for the service level
    float64_t short_abandon_s
    int64_t trunks                  # -1 = unlimited
    int32_t tier_priority
    int32_t policy                  # Policy: the freed agent's choice rule
    int32_t use_overflow            # secondary groups only after overflow_after_s
    int32_t use_reserve             # groups keep reserve_n idle agents for protected calls
    int32_t agent_rule              # AgentRule
    int32_t unstaffed_disconnect    # 1: callers of a call type no agent on duty serves are disconnected
    # compiled scenario (borrowed pointers into numpy arrays)
    float64_t* stream_rate          # [S, P] calls per second
    int32_t* stream_entry           # [S] call type, or -1 = IVR
    float64_t* stream_tier_cum      # [S, L] cumulative tier shares
    float64_t ivr_cut_contained     # u < this: contained
    float64_t ivr_cut_hangup        # u < this: hangs up in the menu
    int32_t ivr_time_dist
    float64_t* menu_cum             # [L, K] cumulative menu shares
    int32_t* patience_dist          # [K, L]
    float64_t* patience_scale       # [P, K] factor on the patience of calls arriving in interval p
    float64_t* talk_scale           # [P, K] factor on the talk of calls arriving in interval p
    int32_t* talk_dist              # [K, G]
    float64_t* hold_prob            # [K, G]
    int32_t* hold_dist              # [K, G]
    int32_t* acw_dist               # [K, G]
    int32_t* headcount              # [P, G]
    float64_t* redial_prob          # [K] blocked or abandoned callers who call again
    int32_t* redial_dist            # [K] delay before the redial
    int32_t* redial_max             # [K] most attempts per caller
    int32_t* redial_memory          # [K] a redial is the same caller: its patience and service draws repeat
    float64_t* fcr                  # [K, G] probability the answered call solves the problem
    int32_t* repeat_dist            # [K] delay before an unresolved caller calls back
    float64_t* transfer_prob        # [K, G] share transferred after talk
    int32_t* transfer_to            # [K] call type transfers go to
    int32_t* transfer_multi         # [K] 1: split over several call types ...
    float64_t* transfer_cum         # [K, K] ... by these cumulative shares
    float64_t* overflow_after_s     # [K] wait before secondary groups may take the call
    int32_t* primary_level          # [K] best skill level among the groups serving k
    int32_t* reserve_n              # [G] idle agents kept for protected calls
    int32_t* reserve_tier           # [G] protected tier, -1 = none
    int32_t* reserve_type           # [G] protected call type, -1 = none
    float64_t* weight               # [K, L] cost weight of waiting (weighted_wait)
    float64_t* service_mean_s       # [K, G] mean talk + hold (weighted_wait)
    float64_t* cb_offer_after_s     # [K] wait before a callback is offered, inf = never
    float64_t* cb_accept            # [K] probability the caller accepts
    float64_t* cb_within_s          # [K] callback service-level threshold
    float64_t* balk_prob            # [K, L, balk_nb] by callers of the type already waiting (last holds)
    int32_t balk_nb
    int32_t any_balking
    float64_t* max_wait_s           # [K] inf = none
    int32_t* max_wait_action        # [K] MaxWaitAction
    int64_t* q_cap                  # [K] most callers of the type waiting, -1 = unlimited
    float64_t* conf_prob            # [K] probability of a conference after talk
    int32_t* conf_with              # [K] call type whose agents join it
    int32_t* conf_dist              # [K] its duration
    float64_t closing_s             # no arrival from this time on (inf = never)
    int32_t closing_mode            # Closing
    int32_t closed                  # 1 once the center has closed
    int32_t past_horizon            # 1 while draining after the horizon (time-weighted levels are closed)
    float64_t* quality_share        # [K] share of answered calls that get a quality call-back
    int32_t W                       # outbound task types: quality, then campaigns
    int32_t* out_groups             # [W, G] 1 if group g does task type w
    int32_t* out_talk_dist          # [W]
    int32_t* out_acw_dist           # [W]
    int32_t* campaign_calls         # [P, W] tasks added at the start of each interval
    int64_t blend_max_queue         # outbound only while at most this many inbound calls wait
    int32_t blend_min_idle          # ... and at least this many other agents of the group stay idle
    int32_t dialer                  # 1 if there is a predictive dialer
    int32_t* dl_groups              # [G] 1 if the group's agents take dialled calls
    float64_t dl_from_s             # the dialer is on in [dl_from_s, dl_to_s)
    float64_t dl_to_s
    float64_t dl_ratio              # numbers dialled per idle agent of dl_groups ...
    int32_t dl_extra                # ... plus this many, less the dials in progress
    int32_t dl_min_idle             # dial only while this many agents are idle in all groups together
    float64_t* dl_reach             # [P] right-party contact probability
    int32_t dl_time_dist
    int32_t dl_patience_dist
    int32_t dl_talk_dist
    int32_t dl_acw_dist
    int32_t dl_active               # 1 once switched on
    int64_t dl_pending              # dials in progress
    int32_t dl_head                 # reached parties waiting for an agent (FIFO of call slots)
    int32_t dl_tail
    int32_t* cb_head                # [K] callback FIFO per call type
    int32_t* cb_tail                # [K]
    int64_t* pending                # [W] outbound tasks waiting
    int32_t* tg_ptr                 # [K+1] groups that serve call type k ...
    int32_t* tg_group               # ... sorted by (level, group)
    int32_t* tg_level
    int32_t* gt_ptr                 # [G+1] call types served by group g ...
    int32_t* gt_type                # ... sorted by (level, call type)
    int32_t* gt_level
    Dist* dists
    float64_t* dist_values
    bitgen_t** bg_arrival           # [S]
    bitgen_t** bg                   # [N_SOURCES]
    float64_t volume                # day-level volume factor of this run
    # event list: binary heap ordered by (t, seq)
    Event* heap
    int64_t heap_n
    int64_t heap_cap
    int64_t seq
    # calls in the system
    Call* calls
    int32_t calls_cap
    int32_t free_call               # head of the free list, -1 = none
    # queues per (call type, tier): doubly linked lists of call slots
    int32_t* q_head                 # [K*L]
    int32_t* q_tail                 # [K*L]
    int64_t n_waiting
    int64_t* k_waiting              # [K] callers waiting per call type
    # arrival streams
    float64_t* arr_t                # [S] time of the stream's last arrival
    int32_t* arr_p                  # [S] interval of that time
    # agents per group
    float64_t* idle_t               # [G * idle_cap] ring buffers of idle-since times
    int32_t* idle_id                # [G * idle_cap] ... and of the idle agents' numbers
    int32_t* next_agent             # [G] number of the group's next agent to log in
    int32_t idle_cap
    int32_t* idle_head              # [G]
    int32_t* idle_n                 # [G]
    int32_t* present                # [G] agents at work (incl. those finishing before leaving)
    int32_t* pending_leave          # [G] agents to send home when they finish
    float64_t* staff_t              # [G] last change of `present`
    # time-weighted levels
    int32_t p_cur
    int64_t lines                   # busy trunk lines (calls in the system)
    float64_t lines_t
    float64_t queue_t
    # statistics (borrowed pointers into zeroed numpy arrays)
    int64_t* offered                # [P, K, L]
    int64_t* blocked
    int64_t* contained
    int64_t* ivr_abandoned
    int64_t* queued
    int64_t* abandoned
    int64_t* abandoned_short        # abandoned after waiting < short_abandon_s
    int64_t* balked                 # left at once instead of waiting (also in abandoned)
    int64_t* messages               # sent to a message after max_wait
    int64_t* disconnected           # disconnected (max_wait, or the queue cleared at closing)
    int64_t* queue_full             # found their queue full
    int64_t* conferences            # conferences held
    int64_t* conferences_missed     # conferences skipped (no agent of the other skill free)
    float64_t* conference_s         # conference time
    float64_t* abandon_wait_s
    int64_t* in_ivr_end             # still in the IVR at the horizon
    int64_t* in_queue_end           # still waiting at the horizon
    int64_t* redials                # attempts that are redials
    int64_t* repeats                # attempts that are repeat calls
    int64_t* unresolved             # answered calls that will call back (1 - FCR)
    int64_t* transferred            # calls transferred to another call type (by the source type)
    int64_t* transfer_answered      # transferred legs answered (by the target type)
    int64_t* transfer_abandoned     # transferred legs abandoned (by the target type)
    int64_t* transfer_disconnected  # transferred legs disconnected: queue full, closed, nobody on duty
    int64_t* callbacks              # waiting callers who accepted a callback
    int64_t* callbacks_done         # callbacks made (agent reached the caller)
    int64_t* callbacks_within       # callbacks made within cb_within_s of acceptance
    float64_t* callback_wait_s      # acceptance to callback, s
    int64_t* callbacks_end          # accepted callbacks still waiting at the horizon
    int64_t* outbound_done          # [P, W] outbound tasks started
    int64_t* outbound_end           # [W] outbound tasks still pending at the horizon
    float64_t* outbound_busy_s      # [P, G] agent-seconds on outbound work (talk + ACW)
    int64_t* dials                  # [P] numbers dialled
    int64_t* dial_contacts          # [P] dials that reached the right party
    int64_t* dial_served            # [P] reached parties an agent talked to
    int64_t* mismatches             # [P] reached parties dropped: no agent free in time
    int64_t* answered               # [P, K, L, G]
    int64_t* answered_within
    int64_t* answered_within_total  # within the threshold counting the caller's earlier waits
    float64_t* wait_s
    float64_t* wait_max_s
    float64_t* talk_s
    int64_t* held
    float64_t* hold_s
    float64_t* acw_s
    int64_t* wait_hist              # [K, WAIT_BINS] waits of answered calls, 1-second bins
    float64_t* staffed_s            # [P, G] agent-seconds present
    float64_t* service_busy_s       # [P, G] agent-seconds in talk + hold
    float64_t* acw_busy_s           # [P, G] agent-seconds in after-call work
    float64_t* lines_s              # [P] line-seconds busy
    int64_t* lines_peak             # [P]
    float64_t* queue_s              # [P] call-seconds waiting
    int64_t* queue_peak             # [P]
    int64_t n_events
    int64_t n_arrivals
    # optional call log
    int32_t log_on
    LogRec* log
    int64_t log_n
    int64_t log_cap
    int32_t error                   # 1 = out of memory


# ----------------------------------------------------------------------------
# Random draws. Each maps to exactly one numpy Generator method so that the
# SimPy reference, calling that method on the same stream, gets the same bits.
#
# Every call has its own stream (common random numbers): a SplitMix64 counter
# seeded from a 64-bit key drawn at the caller's first arrival (in arrival
# order, from the "talk" source). All of the call's later draws (IVR of a
# redial, patience, balking, talk, HOLD, ACW, transfer, resolution, quality,
# callback, redial) come from it in a fixed order, so two staffings differ
# only where they must. A redial, repeat call or transferred leg gets a stream
# of its own, derived from its parent's state.
# ----------------------------------------------------------------------------
cdef inline float64_t _uniform(bitgen_t* bg) noexcept nogil:
    return bg.next_double(bg.state)


cdef inline uint64_t _mix64(uint64_t z) noexcept nogil:
    """SplitMix64's finalizer: a well-spread 64-bit value from any 64-bit value."""
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef uint64_t _sm_next64(void* st) noexcept nogil:
    cdef uint64_t* x = <uint64_t*>st
    x[0] += <uint64_t>0x9E3779B97F4A7C15ULL
    return _mix64(x[0])


cdef uint32_t _sm_next32(void* st) noexcept nogil:
    return <uint32_t>(_sm_next64(st) >> 32)


cdef double _sm_double(void* st) noexcept nogil:
    return <double>(_sm_next64(st) >> 11) * (1.0 / 9007199254740992.0)


cdef inline void _call_bg(bitgen_t* bg, uint64_t* state) noexcept nogil:
    """A bit generator over one call's stream state."""
    bg.state = <void*>state
    bg.next_uint64 = _sm_next64
    bg.next_uint32 = _sm_next32
    bg.next_double = _sm_double
    bg.next_raw = _sm_next64


cdef enum:                  # salts of derived streams
    SALT_REDIAL = 0x5244
    SALT_REPEAT = 0x5250
    SALT_TRANSFER = 0x5446


#: Salts of derived streams, for the SimPy reference.
STREAM_SALTS = {"redial": SALT_REDIAL, "repeat": SALT_REPEAT, "transfer": SALT_TRANSFER}


cpdef uint64_t derive_stream(uint64_t state, uint64_t salt) noexcept nogil:
    """The stream of a redial, repeat call or transferred leg, from its parent's stream state."""
    return _mix64(state ^ (salt * <uint64_t>0x9E3779B97F4A7C15ULL))


cdef class CallStream(BitGenerator):
    """One call's random stream as a numpy BitGenerator (SplitMix64), for the SimPy reference:
    ``numpy.random.Generator(CallStream(state))`` draws what the kernel draws for that call."""

    cdef uint64_t _state

    def __init__(self, uint64_t state):
        BitGenerator.__init__(self, 0)
        self._state = state
        _call_bg(&self._bitgen, &self._state)
        self.capsule = PyCapsule_New(<void*>&self._bitgen, "BitGenerator", NULL)

    @property
    def stream_state(self):
        return self._state


cdef inline float64_t _sample(State* s, bitgen_t* bg, int32_t d) noexcept nogil:
    cdef Dist* D = &s.dists[d]
    cdef int32_t code = D.code
    cdef int64_t j
    if code == D_EXPONENTIAL:
        return D.a * random_standard_exponential(bg)
    if code == D_DETERMINISTIC:
        return D.a
    if code == D_LOGNORMAL:
        return random_lognormal(bg, D.a, D.b)
    if code == D_GAMMA:
        return random_gamma(bg, D.a, D.b)
    if code == D_UNIFORM:
        return D.a + D.b * bg.next_double(bg.state)
    if code == D_WEIBULL:
        return D.b * random_weibull(bg, D.a)
    if code == D_EMPIRICAL:
        j = <int64_t>(bg.next_double(bg.state) * D.n)
        if j >= D.n:
            j = D.n - 1
        return s.dist_values[D.offset + j]
    if code == D_TRIANGULAR:
        return _triangular(bg.next_double(bg.state), s.dist_values[D.offset], s.dist_values[D.offset + 1],
                           s.dist_values[D.offset + 2])
    return INFINITY                 # D_NEVER


cdef inline float64_t _triangular(float64_t u, float64_t lo, float64_t mode, float64_t hi) noexcept nogil:
    """Inverse CDF of the triangular distribution (lo < hi, lo <= mode <= hi)."""
    if u * (hi - lo) < mode - lo:
        return lo + sqrt(u * (hi - lo) * (mode - lo))
    return hi - sqrt((1.0 - u) * (hi - lo) * (hi - mode))


cdef inline int32_t _categorical(bitgen_t* bg, float64_t* cum, int32_t n) noexcept nogil:
    cdef float64_t u = bg.next_double(bg.state)
    cdef int32_t j = 0
    while j < n - 1 and u >= cum[j]:
        j += 1
    return j


# ----------------------------------------------------------------------------
# Event list
# ----------------------------------------------------------------------------
cdef inline bint _before(Event* a, Event* b) noexcept nogil:
    return a.t < b.t or (a.t == b.t and a.seq < b.seq)


cdef int _push(State* s, float64_t t, int32_t kind, int32_t id) noexcept nogil:
    cdef int64_t i, parent
    cdef Event ev
    cdef Event* h
    if s.heap_n == s.heap_cap:
        h = <Event*>realloc(s.heap, 2 * s.heap_cap * sizeof(Event))
        if h == NULL:
            s.error = 1
            return -1
        s.heap = h
        s.heap_cap *= 2
    ev.t = t
    ev.seq = s.seq
    ev.kind = kind
    ev.id = id
    s.seq += 1
    h = s.heap
    i = s.heap_n
    s.heap_n += 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(&ev, &h[parent]):
            break
        h[i] = h[parent]
        i = parent
    h[i] = ev
    return 0


cdef inline void _pop(State* s, Event* out) noexcept nogil:
    cdef Event* h = s.heap
    cdef Event last
    cdef int64_t i = 0, c, n
    out[0] = h[0]
    s.heap_n -= 1
    n = s.heap_n
    if n == 0:
        return
    last = h[n]
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _before(&h[c + 1], &h[c]):
            c += 1
        if not _before(&h[c], &last):
            break
        h[i] = h[c]
        i = c
    h[i] = last


# ----------------------------------------------------------------------------
# Time-weighted levels, split exactly at interval borders (k * interval_s)
# ----------------------------------------------------------------------------
cdef inline void _lines_change(State* s, float64_t now, int64_t delta) noexcept nogil:
    if s.past_horizon:              # draining after the horizon: levels are closed at the horizon
        s.lines += delta
        return
    s.lines_s[s.p_cur] += s.lines * (now - s.lines_t)
    s.lines_t = now
    s.lines += delta
    if s.lines > s.lines_peak[s.p_cur]:
        s.lines_peak[s.p_cur] = s.lines


cdef inline void _queue_change(State* s, float64_t now, int64_t delta) noexcept nogil:
    if s.past_horizon:
        s.n_waiting += delta
        return
    s.queue_s[s.p_cur] += s.n_waiting * (now - s.queue_t)
    s.queue_t = now
    s.n_waiting += delta
    if s.n_waiting > s.queue_peak[s.p_cur]:
        s.queue_peak[s.p_cur] = s.n_waiting


cdef inline void _staff_change(State* s, int32_t g, float64_t now, int32_t delta) noexcept nogil:
    if s.past_horizon:
        s.present[g] += delta
        return
    s.staffed_s[s.p_cur * s.G + g] += s.present[g] * (now - s.staff_t[g])
    s.staff_t[g] = now
    s.present[g] += delta


cdef void _add_busy(State* s, float64_t* acc, int32_t g, float64_t t0, float64_t t1) noexcept nogil:
    """Add the busy span [t0, t1) of one agent of group g, split at interval borders."""
    cdef int32_t p = s.p_cur
    cdef float64_t end
    if t1 > s.horizon_s:
        t1 = s.horizon_s
    while t0 < t1:
        end = (p + 1) * s.interval_s
        while end <= t0:            # t0 may lie in a later interval than p_cur
            p += 1
            end = (p + 1) * s.interval_s
        if t1 <= end:
            acc[p * s.G + g] += t1 - t0
            return
        acc[p * s.G + g] += end - t0
        t0 = end
        p += 1


# ----------------------------------------------------------------------------
# Calls and queues
# ----------------------------------------------------------------------------
cdef int32_t _new_call(State* s) noexcept nogil:
    cdef int32_t c, i, cap
    cdef Call* grown
    if s.free_call < 0:
        cap = s.calls_cap * 2
        grown = <Call*>realloc(s.calls, cap * sizeof(Call))
        if grown == NULL:
            s.error = 1
            return -1
        s.calls = grown
        for i in range(s.calls_cap, cap):
            s.calls[i].next = i + 1 if i + 1 < cap else -1
            s.calls[i].state = CS_FREE
        s.free_call = s.calls_cap
        s.calls_cap = cap
    c = s.free_call
    s.free_call = s.calls[c].next
    return c


cdef inline void _free_call(State* s, int32_t c) noexcept nogil:
    s.calls[c].state = CS_FREE
    s.calls[c].next = s.free_call
    s.free_call = c


cdef inline void _log(State* s, Call* call, int32_t outcome, float64_t now, float64_t wait,
                      int32_t g, float64_t talk, float64_t hold, float64_t acw) noexcept nogil:
    cdef LogRec* grown
    if s.log_n == s.log_cap:
        grown = <LogRec*>realloc(s.log, 2 * s.log_cap * sizeof(LogRec))
        if grown == NULL:
            s.error = 1
            return
        s.log = grown
        s.log_cap *= 2
    s.log[s.log_n].t_arrive = call.t_arrive
    s.log[s.log_n].t_end = now
    s.log[s.log_n].wait_s = wait
    s.log[s.log_n].ivr_s = call.ivr_s
    s.log[s.log_n].talk_s = talk
    s.log[s.log_n].hold_s = hold
    s.log[s.log_n].acw_s = acw
    s.log[s.log_n].caller = call.caller
    s.log[s.log_n].attempt = call.attempts
    s.log[s.log_n].kind = call.kind
    s.log[s.log_n].stream = call.stream
    s.log[s.log_n].leg = call.leg
    s.log[s.log_n].k = call.k
    s.log[s.log_n].l = call.l
    s.log[s.log_n].outcome = outcome
    s.log[s.log_n].g = g
    s.log[s.log_n].agent = call.agent if g >= 0 else -1
    s.log_n += 1


cdef inline void _enqueue(State* s, int32_t c) noexcept nogil:
    cdef int32_t q = s.calls[c].k * s.L + s.calls[c].l
    s.k_waiting[s.calls[c].k] += 1
    s.calls[c].next = -1
    s.calls[c].prev = s.q_tail[q]
    if s.q_tail[q] >= 0:
        s.calls[s.q_tail[q]].next = c
    else:
        s.q_head[q] = c
    s.q_tail[q] = c


cdef inline void _unlink(State* s, int32_t c) noexcept nogil:
    cdef int32_t q = s.calls[c].k * s.L + s.calls[c].l
    cdef int32_t nx = s.calls[c].next, pv = s.calls[c].prev
    s.k_waiting[s.calls[c].k] -= 1
    if pv >= 0:
        s.calls[pv].next = nx
    else:
        s.q_head[q] = nx
    if nx >= 0:
        s.calls[nx].prev = pv
    else:
        s.q_tail[q] = pv


# ----------------------------------------------------------------------------
# Agents
# ----------------------------------------------------------------------------
cdef inline void _idle_push(State* s, int32_t g, int32_t a, float64_t now) noexcept nogil:
    """Agent a of group g becomes idle (at the back of the group's longest-idle order)."""
    cdef int32_t i = (s.idle_head[g] + s.idle_n[g]) % s.idle_cap
    s.idle_t[g * s.idle_cap + i] = now
    s.idle_id[g * s.idle_cap + i] = a
    s.idle_n[g] += 1


cdef inline int32_t _idle_pop(State* s, int32_t g) noexcept nogil:
    """The longest-idle agent of group g leaves the idle ring; returns its number."""
    cdef int32_t a = s.idle_id[g * s.idle_cap + s.idle_head[g]]
    s.idle_head[g] = (s.idle_head[g] + 1) % s.idle_cap
    s.idle_n[g] -= 1
    return a


cdef inline int32_t _idle_head_agent(State* s, int32_t g) noexcept nogil:
    return s.idle_id[g * s.idle_cap + s.idle_head[g]]


cdef inline int32_t _log_in(State* s, int32_t g) noexcept nogil:
    """A new agent of group g logs in: its number (in log-in order over the day, per group)."""
    s.next_agent[g] += 1
    return s.next_agent[g] - 1


cdef inline float64_t _idle_since(State* s, int32_t g) noexcept nogil:
    return s.idle_t[g * s.idle_cap + s.idle_head[g]]


cdef inline bint _reserve_ok(State* s, int32_t g, int32_t k, int32_t l, int32_t idle_left) noexcept nogil:
    """May group g give this call an agent, leaving idle_left agents idle?"""
    if not s.use_reserve or s.reserve_n[g] == 0:
        return True
    if l == s.reserve_tier[g] or k == s.reserve_type[g]:
        return True
    return idle_left >= s.reserve_n[g]


cdef bint _overflow_holds(State* s, int32_t k) noexcept nogil:
    """Whether call type k's overflow threshold applies: some agent of a primary group (the
    type's best skill level) is on duty, not counting agents on their way out. While none is,
    secondary groups may take its calls at once."""
    cdef int32_t j, g
    for j in range(s.tg_ptr[k], s.tg_ptr[k + 1]):
        if s.tg_level[j] > s.primary_level[k]:
            break
        g = s.tg_group[j]
        if s.present[g] - s.pending_leave[g] > 0:
            return True
    return False


cdef void _offer_unguarded(State* s, float64_t now) noexcept nogil:
    """At an interval start: the waiting calls of every type with no primary agent on duty are
    offered to its secondary groups at once (tier by tier, oldest first), as if their threshold
    had passed."""
    cdef int32_t k, l, c, nx, g, a
    for k in range(s.K):
        if s.overflow_after_s[k] == INFINITY or _overflow_holds(s, k):
            continue
        for l in range(s.L):
            c = s.q_head[k * s.L + l]
            while c >= 0:
                nx = s.calls[c].next
                g = _pick_group(s, k, l, True)
                if g < 0:
                    break
                a = _idle_pop(s, g)
                _unlink(s, c)
                _queue_change(s, now, -1)
                _answer(s, c, g, a, now)
                c = nx


cdef int32_t _pick_group(State* s, int32_t k, int32_t l, bint secondary) noexcept nogil:
    """Routing decision 1: the group whose agent takes a call now.

    Among groups with an idle agent the call may use, the best skill level
    wins; within that level the agent rule: the longest-idle agent (ties:
    lower group index), an idle agent at random (each equally likely; one
    draw, only when two or more groups qualify), or the first group in file
    order. With overflow, groups below the primary level are eligible only
    once the call has waited its threshold (``secondary``) or while no
    primary agent is on duty.
    """
    cdef int32_t j, j0 = -1, g, best = -1, level = -1, n_groups = 0
    cdef int64_t total = 0
    cdef float64_t best_t = INFINITY, t, u
    for j in range(s.tg_ptr[k], s.tg_ptr[k + 1]):
        if best >= 0 and s.tg_level[j] != level:
            break
        if s.use_overflow and not secondary and s.tg_level[j] > s.primary_level[k] and _overflow_holds(s, k):
            break
        g = s.tg_group[j]
        if s.idle_n[g] > 0 and _reserve_ok(s, g, k, l, s.idle_n[g] - 1):
            if s.agent_rule == AGENT_GROUP_ORDER:
                return g
            if best < 0:
                j0 = j
                level = s.tg_level[j]
            n_groups += 1
            total += s.idle_n[g]
            t = _idle_since(s, g)
            if best < 0 or t < best_t:
                best = g
                best_t = t
    if s.agent_rule == AGENT_RANDOM and n_groups > 1:
        u = _uniform(s.bg[SRC_ROUTE]) * total
        for j in range(j0, s.tg_ptr[k + 1]):
            if s.tg_level[j] != level:
                break
            g = s.tg_group[j]
            if s.idle_n[g] > 0 and _reserve_ok(s, g, k, l, s.idle_n[g] - 1):
                best = g
                if u < s.idle_n[g]:
                    break
                u -= s.idle_n[g]
    return best


cdef int32_t _pick_call(State* s, int32_t g, float64_t now) noexcept nogil:
    """Routing decision 3: the waiting call a freed agent of group g takes.

    priority: among call types at the group's best level that has eligible
    waiting calls, the call waiting longest; with tier priority, the highest
    tier first. Ties go to the lower call type, then the lower tier.
    weighted_wait: over all call types the group serves, the largest
    weight x wait / mean service time (first found on ties).
    Overflow and reserve rules decide which queue heads are eligible.
    """
    cdef int32_t j, k, l, c, lv, best = -1, best_l = 0, level = -1
    cdef float64_t best_t = INFINITY, t, score, best_score = -1.0
    cdef bint weighted = s.policy == POL_WEIGHTED_WAIT
    for j in range(s.gt_ptr[g], s.gt_ptr[g + 1]):
        lv = s.gt_level[j]
        if best >= 0 and not weighted and lv != level:
            break
        k = s.gt_type[j]
        for l in range(s.L):
            c = s.q_head[k * s.L + l]
            if c < 0:
                continue
            t = s.calls[c].t_queue
            if s.use_overflow and lv > s.primary_level[k] and now - t < s.overflow_after_s[k] \
                    and _overflow_holds(s, k):
                continue
            if not _reserve_ok(s, g, k, l, s.idle_n[g]):
                continue
            if weighted:
                score = s.weight[k * s.L + l] * (now - t) / s.service_mean_s[k * s.G + g]
                if score > best_score:
                    best = c
                    best_score = score
                continue
            if best < 0 or (s.tier_priority and l < best_l) or (
                    (not s.tier_priority or l == best_l) and t < best_t):
                best = c
                best_t = t
                best_l = l
                level = lv
    return best


cdef inline void _draw_service(State* s, bitgen_t* cb, int32_t kg, float64_t* talk, float64_t* hold,
                               float64_t* acw) noexcept nogil:
    """Talk, the HOLD flag (and HOLD time), ACW: in this order, from the call's own stream."""
    talk[0] = _sample(s, cb, s.talk_dist[kg])
    hold[0] = 0.0
    if _uniform(cb) < s.hold_prob[kg]:
        hold[0] = _sample(s, cb, s.hold_dist[kg])
    acw[0] = _sample(s, cb, s.acw_dist[kg])


cdef void _answer(State* s, int32_t c, int32_t g, int32_t a, float64_t now) noexcept nogil:
    """Agent a of group g answers call c."""
    cdef Call* call = &s.calls[c]
    cdef int32_t kg = call.k * s.G + g
    cdef int64_t ix
    cdef float64_t wait = now - call.t_queue
    cdef float64_t talk, hold = 0.0, acw, service
    cdef bitgen_t cb
    _call_bg(&cb, &call.rng)
    # the call's own stream, in this order: talk, HOLD flag (and time), ACW, transfer or resolution, quality
    _draw_service(s, &cb, kg, &talk, &hold, &acw)
    talk *= s.talk_scale[call.p * s.K + call.k]
    call.g = g
    call.agent = a
    call.acw_s = acw
    call.state = CS_SERVICE
    call.transfer_to = -1
    call.repeat_delay_s = -1.0
    if s.transfer_prob[kg] > 0.0 and _uniform(&cb) < s.transfer_prob[kg]:
        if s.transfer_multi[call.k]:
            call.transfer_to = _categorical(&cb, &s.transfer_cum[call.k * s.K], s.K)
        else:
            call.transfer_to = s.transfer_to[call.k]
    elif s.fcr[kg] < 1.0 and _uniform(&cb) >= s.fcr[kg]:
        call.repeat_delay_s = _sample(s, &cb, s.repeat_dist[call.k])
        if call.counted:
            s.unresolved[(call.p * s.K + call.k) * s.L + call.l] += 1
    call.quality = 0
    if call.transfer_to < 0 and s.quality_share[call.k] > 0.0 and \
            _uniform(&cb) < s.quality_share[call.k]:
        call.quality = 1
    call.conf_s = 0.0
    call.conf_acw = 0
    if s.conf_prob[call.k] > 0.0 and _uniform(&cb) < s.conf_prob[call.k]:
        call.conf_s = _sample(s, &cb, s.conf_dist[call.k])
    if call.leg != LEG_FIRST:
        if call.counted:
            s.transfer_answered[(call.p * s.K + call.k) * s.L + call.l] += 1
    elif call.counted:
        ix = ((<int64_t>call.p * s.K + call.k) * s.L + call.l) * s.G + g
        s.answered[ix] += 1
        if wait <= s.sl_threshold_k[call.k]:
            s.answered_within[ix] += 1
        if call.wait_prev + wait <= s.sl_threshold_k[call.k]:
            s.answered_within_total[ix] += 1
        s.wait_s[ix] += wait
        if wait > s.wait_max_s[ix]:
            s.wait_max_s[ix] = wait
        s.talk_s[ix] += talk
        s.wait_hist[call.k * WAIT_BINS + (<int64_t>ceil(wait) if wait < WAIT_BINS - 1 else WAIT_BINS - 1)] += 1
        if hold > 0.0:
            s.held[ix] += 1
            s.hold_s[ix] += hold
        s.acw_s[ix] += acw
    if s.log_on:
        _log(s, call, OUT_ANSWERED, now, wait, g, talk, hold, acw)
    service = talk + hold
    _add_busy(s, s.service_busy_s, g, now, now + service)
    if acw > 0.0 and call.conf_s == 0.0:    # with a conference due, ACW is booked when the call ends
        _add_busy(s, s.acw_busy_s, g, now + service, now + service + acw)
    _push(s, now + service, EV_SERVICE_END, c)


cdef void _agent_free(State* s, int32_t g, int32_t a, float64_t now) noexcept nogil:
    """Agent a of group g has finished a call (and its ACW): leaves if due, else takes work; then the
    dialer, if on, dials for the agents now idle."""
    if s.pending_leave[g] > 0:
        s.pending_leave[g] -= 1
        _staff_change(s, g, now, -1)
    else:
        _take_work(s, g, a, now)
    if s.dl_active:
        _dial(s, now)


cdef void _take_work(State* s, int32_t g, int32_t a, float64_t now) noexcept nogil:
    """Available agent a of group g: a reached party of the dialer (dialler groups), else a waiting
    call, else outbound work, else idle."""
    cdef int32_t c
    if s.dl_head >= 0 and s.dl_groups[g]:
        c = s.dl_head
        _dl_unlink(s, c)
        _dl_serve(s, c, g, a, now)
        return
    c = _pick_call(s, g, now)
    if c >= 0:
        _unlink(s, c)
        _queue_change(s, now, -1)
        _answer(s, c, g, a, now)
    elif not _take_outbound(s, g, a, now, s.idle_n[g]):
        _idle_push(s, g, a, now)


cdef bint _take_outbound(State* s, int32_t g, int32_t a, float64_t now, int32_t idle_left) noexcept nogil:
    """Blending: agent a of group g, with no inbound call to take, starts outbound work.

    Only while at most blend_max_queue inbound calls wait, at least
    blend_min_idle other agents of the group stay idle, and a trunk line
    is free. Callbacks first (the oldest among the group's call types),
    then quality call-backs, then campaigns in order.
    """
    cdef int32_t j, k, c, best = -1, w
    cdef float64_t best_t = INFINITY
    if s.n_waiting > s.blend_max_queue or idle_left < s.blend_min_idle or s.past_horizon:
        return False
    if s.trunks >= 0 and s.lines >= s.trunks:
        return False
    for j in range(s.gt_ptr[g], s.gt_ptr[g + 1]):
        k = s.gt_type[j]
        c = s.cb_head[k]
        if c >= 0 and s.calls[c].t_queue < best_t:
            best = c
            best_t = s.calls[c].t_queue
    if best >= 0:
        _serve_callback(s, best, g, a, now)
        return True
    for w in range(s.W):
        if s.pending[w] > 0 and s.out_groups[w * s.G + g]:
            _serve_task(s, w, g, a, now)
            return True
    return False


cdef void _outbound_start(State* s, int32_t c, int32_t g, int32_t a, float64_t talk, float64_t acw,
                          float64_t now) noexcept nogil:
    cdef Call* call = &s.calls[c]
    _lines_change(s, now, 1)
    call.g = g
    call.agent = a
    call.acw_s = acw
    call.state = CS_SERVICE
    call.transfer_to = -1
    call.repeat_delay_s = -1.0
    call.quality = 0
    call.conf_s = 0.0
    call.conf_acw = 0
    call.leg = LEG_OUTBOUND
    _add_busy(s, s.service_busy_s, g, now, now + talk)
    _add_busy(s, s.outbound_busy_s, g, now, now + talk)
    if acw > 0.0:
        _add_busy(s, s.acw_busy_s, g, now + talk, now + talk + acw)
        _add_busy(s, s.outbound_busy_s, g, now + talk, now + talk + acw)
    _push(s, now + talk, EV_SERVICE_END, c)


cdef void _serve_callback(State* s, int32_t c, int32_t g, int32_t a, float64_t now) noexcept nogil:
    cdef Call* call = &s.calls[c]
    cdef int32_t kg = call.k * s.G + g
    cdef int64_t ix = (call.p * s.K + call.k) * s.L + call.l
    cdef float64_t talk, hold = 0.0, acw, wait = now - call.t_queue
    # unlink from the callback FIFO (always the head of its call type)
    s.cb_head[call.k] = call.next
    if call.next >= 0:
        s.calls[call.next].prev = -1
    else:
        s.cb_tail[call.k] = -1
    cdef bitgen_t cb
    _call_bg(&cb, &call.rng)
    _draw_service(s, &cb, kg, &talk, &hold, &acw)
    talk *= s.talk_scale[call.p * s.K + call.k]
    call.agent = a
    if s.log_on:
        _log(s, call, OUT_CALLED_BACK, now, wait, g, talk, hold, acw)
    if call.counted:
        s.callbacks_done[ix] += 1
        s.callback_wait_s[ix] += wait
        if wait <= s.cb_within_s[call.k]:
            s.callbacks_within[ix] += 1
    _outbound_start(s, c, g, a, talk + hold, acw, now)


cdef void _serve_task(State* s, int32_t w, int32_t g, int32_t a, float64_t now) noexcept nogil:
    cdef int32_t c
    cdef float64_t talk, acw
    s.pending[w] -= 1
    c = _new_call(s)
    if c < 0:
        return
    talk = _sample(s, s.bg[SRC_OUTBOUND], s.out_talk_dist[w])
    acw = _sample(s, s.bg[SRC_OUTBOUND], s.out_acw_dist[w])
    s.outbound_done[s.p_cur * s.W + w] += 1
    s.calls[c].k = 0
    s.calls[c].l = 0
    s.calls[c].counted = 0
    _outbound_start(s, c, g, a, talk, acw, now)


cdef void _dispatch_outbound(State* s, float64_t now) noexcept nogil:
    """New outbound work: idle agents (group order, longest idle first) take what blending allows."""
    cdef int32_t g
    for g in range(s.G):
        while s.idle_n[g] > 0 and _take_outbound(s, g, _idle_head_agent(s, g), now, s.idle_n[g] - 1):
            _idle_pop(s, g)


# ----------------------------------------------------------------------------
# Predictive dialer
# ----------------------------------------------------------------------------
cdef void _dial(State* s, float64_t now) noexcept nogil:
    """Dial round(ratio x idle dialler agents) + extra numbers, less the dials in progress, while at
    least dl_min_idle agents are idle in all groups and one in the dialler groups, and lines are free.

    Each dial draws from the dialer's stream, in this order: reached or not, then the dialling time.
    """
    cdef int32_t g, c
    cdef int64_t idle_all = 0, idle_dl = 0, n, i
    cdef float64_t dt
    if now >= s.dl_to_s or s.past_horizon:
        s.dl_active = 0
        return
    for g in range(s.G):
        idle_all += s.idle_n[g]
        if s.dl_groups[g]:
            idle_dl += s.idle_n[g]
    if idle_all < s.dl_min_idle or idle_dl < 1:
        return
    n = <int64_t>(s.dl_ratio * idle_dl + 0.5) + s.dl_extra - s.dl_pending
    for i in range(n):
        if s.trunks >= 0 and s.lines >= s.trunks:
            return
        c = _new_call(s)
        if c < 0:
            return
        _lines_change(s, now, 1)
        s.calls[c].t_arrive = now
        s.calls[c].t_queue = now
        s.calls[c].p = s.p_cur
        s.calls[c].k = 0
        s.calls[c].l = 0
        s.calls[c].g = -1
        s.calls[c].leg = LEG_OUTBOUND
        s.calls[c].counted = now >= s.warmup_s
        s.calls[c].reached = _uniform(s.bg[SRC_DIALER]) < s.dl_reach[s.p_cur]
        if s.calls[c].counted:
            s.dials[s.p_cur] += 1
        dt = _sample(s, s.bg[SRC_DIALER], s.dl_time_dist)
        if dt > 0.0:
            s.calls[c].state = CS_DIALING
            s.dl_pending += 1
            _push(s, now + dt, EV_DIAL_END, c)
        else:
            s.calls[c].state = CS_DIALED
            _dial_end(s, c, now)


cdef void _dial_end(State* s, int32_t c, float64_t now) noexcept nogil:
    """A dial is through: no answer (the line is freed), or the right party answers. Its patience,
    talk and ACW are drawn now (dialer stream, in this order); it takes the longest-idle agent of the
    dialler groups (ties: the group listed first), or waits for one at most its patience."""
    cdef Call* call = &s.calls[c]
    cdef int32_t g, best = -1
    cdef float64_t patience, t, best_t = INFINITY
    if call.state == CS_DIALING:
        s.dl_pending -= 1
    if not call.reached:
        _release(s, c, now)
        return
    if call.counted:
        s.dial_contacts[call.p] += 1
    patience = _sample(s, s.bg[SRC_DIALER], s.dl_patience_dist)
    call.talk_s = _sample(s, s.bg[SRC_DIALER], s.dl_talk_dist)
    call.acw_s = _sample(s, s.bg[SRC_DIALER], s.dl_acw_dist)
    call.t_queue = now
    for g in range(s.G):
        if s.dl_groups[g] and s.idle_n[g] > 0:
            t = _idle_since(s, g)
            if best < 0 or t < best_t:
                best = g
                best_t = t
    if best >= 0:
        _dl_serve(s, c, best, _idle_pop(s, best), now)
        return
    if patience <= 0.0:
        _mismatch(s, c)
        _release(s, c, now)
        return
    call.state = CS_DIALED
    call.patience_seq = -1
    call.next = -1
    call.prev = s.dl_tail
    if s.dl_tail >= 0:
        s.calls[s.dl_tail].next = c
    else:
        s.dl_head = c
    s.dl_tail = c
    if patience < INFINITY:
        call.patience_seq = s.seq
        _push(s, now + patience, EV_MISMATCH, c)


cdef inline void _mismatch(State* s, int32_t c) noexcept nogil:
    if s.calls[c].counted:
        s.mismatches[s.calls[c].p] += 1


cdef void _dl_unlink(State* s, int32_t c) noexcept nogil:
    cdef int32_t nx = s.calls[c].next, pv = s.calls[c].prev
    if pv >= 0:
        s.calls[pv].next = nx
    else:
        s.dl_head = nx
    if nx >= 0:
        s.calls[nx].prev = pv
    else:
        s.dl_tail = pv


cdef void _dl_serve(State* s, int32_t c, int32_t g, int32_t a, float64_t now) noexcept nogil:
    """Agent a of group g talks to a reached party (its line is already held)."""
    if s.calls[c].counted:
        s.dial_served[s.calls[c].p] += 1
    _lines_change(s, now, -1)          # _outbound_start seizes the line again
    _outbound_start(s, c, g, a, s.calls[c].talk_s, s.calls[c].acw_s, now)


cdef void _dial_patience(State* s, int32_t c, int64_t seq, float64_t now) noexcept nogil:
    """A reached party has waited its patience with no agent: the dialer drops it (a mismatch)."""
    if s.calls[c].state != CS_DIALED or s.calls[c].patience_seq != seq:
        return
    _dl_unlink(s, c)
    _mismatch(s, c)
    _release(s, c, now)


cdef void _callback_offer(State* s, int32_t c, int64_t seq, float64_t now) noexcept nogil:
    """The waiting caller is offered a callback; on acceptance it hangs up and joins the callback list."""
    cdef Call* call = &s.calls[c]
    cdef int32_t k = call.k
    if call.state != CS_WAITING or call.offer_seq != seq:
        return
    cdef bitgen_t cb
    _call_bg(&cb, &call.rng)
    if _uniform(&cb) >= s.cb_accept[k]:
        return
    _unlink(s, c)
    _queue_change(s, now, -1)
    _lines_change(s, now, -1)
    if call.counted:
        s.callbacks[(call.p * s.K + k) * s.L + call.l] += 1
    if s.log_on:
        _log(s, call, OUT_CALLBACK, now, now - call.t_queue, -1, 0.0, 0.0, 0.0)
    _await_callback(s, c, now)


cdef void _await_callback(State* s, int32_t c, float64_t now) noexcept nogil:
    """The caller (off the line now) joins its call type's callback list; idle agents may call back."""
    cdef Call* call = &s.calls[c]
    cdef int32_t k = call.k
    call.state = CS_CALLBACK
    call.t_queue = now              # the callback clock starts now
    call.next = -1
    call.prev = s.cb_tail[k]
    if s.cb_tail[k] >= 0:
        s.calls[s.cb_tail[k]].next = c
    else:
        s.cb_head[k] = c
    s.cb_tail[k] = c
    _dispatch_outbound(s, now)


cdef void _enter_queue(State* s, int32_t c, float64_t now) noexcept nogil:
    """The call reaches the agent queue: answered at once, turned away, or waiting.

    A first leg that no agent takes at once is disconnected if the queue has
    closed (``closing.queue: clear``), gets a busy tone if its call type's
    queue is full, or balks with its balking probability; otherwise it waits
    with its patience, overflow, callback-offer and max-wait timers.
    """
    cdef Call* call = &s.calls[c]
    cdef int32_t g
    cdef int64_t ix = (call.p * s.K + call.k) * s.L + call.l
    cdef float64_t patience, prob
    cdef bint first = call.leg == LEG_FIRST
    call.t_queue = now
    if first:
        if s.redial_memory[call.k] and call.kind == KIND_REDIAL and call.rng_mem != 0:
            call.rng = call.rng_mem         # the same caller: the same patience and service draws
        else:
            call.rng_mem = call.rng
    cdef bitgen_t cb
    _call_bg(&cb, &call.rng)
    patience = _sample(s, &cb, s.patience_dist[call.k * s.L + call.l]) * s.patience_scale[call.p * s.K + call.k]
    g = _pick_group(s, call.k, call.l, False)
    if g < 0 and not first and ((s.closed and s.closing_mode == CLOSE_CLEAR) or (
            s.unstaffed_disconnect and not _on_duty_for(s, call.k)) or (
            s.q_cap[call.k] >= 0 and s.k_waiting[call.k] >= s.q_cap[call.k])):
        if call.counted:
            s.transfer_disconnected[ix] += 1
        if s.log_on:
            _log(s, call, OUT_DISCONNECTED, now, 0.0, -1, 0.0, 0.0, 0.0)
        _release(s, c, now)
        return
    if g < 0 and first:
        if (s.closed and s.closing_mode == CLOSE_CLEAR) or (s.unstaffed_disconnect and not _on_duty_for(s, call.k)):
            if call.counted:
                s.queued[ix] += 1
                s.disconnected[ix] += 1
            if s.log_on:
                _log(s, call, OUT_DISCONNECTED, now, 0.0, -1, 0.0, 0.0, 0.0)
            _release(s, c, now)
            return
        if s.q_cap[call.k] >= 0 and s.k_waiting[call.k] >= s.q_cap[call.k]:
            if call.counted:
                s.queue_full[ix] += 1
            if s.log_on:
                _log(s, call, OUT_QUEUE_FULL, now, 0.0, -1, 0.0, 0.0, 0.0)
            _lines_change(s, now, -1)
            _maybe_redial(s, c, call.k, call.l, call.ivr_entry, call.attempts, False, call.caller, call.stream,
                          &call.rng, now)
            return
        if s.any_balking:
            prob = s.balk_prob[(call.k * s.L + call.l) * s.balk_nb + (
                s.k_waiting[call.k] if s.k_waiting[call.k] < s.balk_nb else s.balk_nb - 1)]
            if prob > 0.0 and _uniform(&cb) < prob:
                if call.counted:
                    s.queued[ix] += 1
                    s.abandoned[ix] += 1
                    s.balked[ix] += 1
                    if s.short_abandon_s > 0.0:
                        s.abandoned_short[ix] += 1
                if s.log_on:
                    _log(s, call, OUT_BALKED, now, 0.0, -1, 0.0, 0.0, 0.0)
                _lines_change(s, now, -1)
                _maybe_redial(s, c, call.k, call.l, call.ivr_entry, call.attempts, False, call.caller,
                              call.stream, &call.rng, now)
                return
    if call.counted and first:
        s.queued[ix] += 1
    if g >= 0:
        _answer(s, c, g, _idle_pop(s, g), now)
        return
    call.state = CS_WAITING
    call.patience_seq = -1          # an earlier leg's timer may still be pending
    call.overflow_seq = -1
    _enqueue(s, c)
    _queue_change(s, now, 1)
    if patience < INFINITY:
        call.patience_seq = s.seq
        _push(s, now + patience, EV_PATIENCE, c)
    if s.use_overflow and s.overflow_after_s[call.k] < INFINITY:
        call.overflow_seq = s.seq
        _push(s, now + s.overflow_after_s[call.k], EV_OVERFLOW, c)
    call.offer_seq = -1
    if first and s.cb_offer_after_s[call.k] < INFINITY:
        call.offer_seq = s.seq
        _push(s, now + s.cb_offer_after_s[call.k], EV_CALLBACK_OFFER, c)
    call.maxwait_seq = -1
    if first and s.max_wait_s[call.k] < INFINITY:
        call.maxwait_seq = s.seq
        _push(s, now + s.max_wait_s[call.k], EV_MAX_WAIT, c)


cdef void _max_wait(State* s, int32_t c, int64_t seq, float64_t now) noexcept nogil:
    """The caller has waited max_wait: sent to a message (and, with ``callback``, called back later),
    or disconnected."""
    cdef Call* call = &s.calls[c]
    cdef int64_t ix
    cdef bint message
    if call.state != CS_WAITING or call.maxwait_seq != seq:
        return
    _unlink(s, c)
    _queue_change(s, now, -1)
    ix = (call.p * s.K + call.k) * s.L + call.l
    message = s.max_wait_action[call.k] != MW_DISCONNECT
    if call.counted:
        if message:
            s.messages[ix] += 1
        else:
            s.disconnected[ix] += 1
    if s.log_on:
        _log(s, call, OUT_MESSAGE if message else OUT_DISCONNECTED, now, now - call.t_queue, -1, 0.0, 0.0, 0.0)
    if s.max_wait_action[call.k] == MW_CALLBACK:
        _lines_change(s, now, -1)
        _await_callback(s, c, now)
        return
    _release(s, c, now)


cdef void _closing(State* s, float64_t now) noexcept nogil:
    """The center closes: no more arrivals; with ``clear``, every waiting caller is disconnected
    (call type by call type, tier by tier, oldest first)."""
    cdef int32_t q
    s.closed = 1
    if s.closing_mode != CLOSE_CLEAR:
        return
    for q in range(s.K * s.L):
        _disconnect_queue(s, q, now)


cdef void _disconnect_queue(State* s, int32_t q, float64_t now) noexcept nogil:
    """Every caller waiting in queue q (call type x tier) is disconnected, oldest first (a
    transferred leg counts as a transfer abandoned)."""
    cdef int32_t c
    cdef int64_t ix
    cdef Call* call
    while s.q_head[q] >= 0:
        c = s.q_head[q]
        call = &s.calls[c]
        _unlink(s, c)
        _queue_change(s, now, -1)
        ix = (call.p * s.K + call.k) * s.L + call.l
        if call.leg == LEG_FIRST:
            if call.counted:
                s.disconnected[ix] += 1
            if s.log_on:
                _log(s, call, OUT_DISCONNECTED, now, now - call.t_queue, -1, 0.0, 0.0, 0.0)
        elif call.counted:
            s.transfer_disconnected[ix] += 1
        _release(s, c, now)


cdef bint _on_duty_for(State* s, int32_t k) noexcept nogil:
    """Whether some agent of a group serving call type k is on duty (agents on their way out at a
    headcount drop do not count)."""
    cdef int32_t j, g
    for j in range(s.tg_ptr[k], s.tg_ptr[k + 1]):
        g = s.tg_group[j]
        if s.present[g] - s.pending_leave[g] > 0:
            return True
    return False


cdef void _overflow(State* s, int32_t c, int64_t seq, float64_t now) noexcept nogil:
    """The call has waited its threshold: secondary groups may now take it."""
    cdef Call* call = &s.calls[c]
    cdef int32_t g, a
    if call.state != CS_WAITING or call.overflow_seq != seq:
        return
    g = _pick_group(s, call.k, call.l, True)
    if g >= 0:
        a = _idle_pop(s, g)
        _unlink(s, c)
        _queue_change(s, now, -1)
        _answer(s, c, g, a, now)


cdef void _release(State* s, int32_t c, float64_t now) noexcept nogil:
    _lines_change(s, now, -1)
    _free_call(s, c)


cdef void _maybe_redial(State* s, int32_t c, int32_t k, int32_t l, int32_t ivr_entry,
                        int32_t attempts, bint blocked, int64_t caller, int32_t st, uint64_t* rng,
                        float64_t now) noexcept nogil:
    """A blocked or abandoning caller calls again with probability redial_prob[k].

    ``c`` is the caller's slot, or -1 for a caller blocked before it had one;
    the slot is kept for the pending redial or freed. A caller blocked at the
    trunks never heard the IVR: its redial goes through self-service and menu
    hang-ups like a first attempt (``IVR_UNHEARD``); one who abandoned in the
    queue goes straight to its call type's queue after the menu time.
    """
    cdef float64_t delay
    cdef Call* call
    cdef bitgen_t cb
    cdef uint64_t child, decide
    if s.redial_memory[k]:          # replayed streams repeat themselves: decide from a stream of its own
        decide = derive_stream(rng[0], SALT_REDIAL + <uint64_t>attempts)
        _call_bg(&cb, &decide)
    else:
        _call_bg(&cb, rng)
    if s.redial_prob[k] > 0.0 and attempts < s.redial_max[k] and _uniform(&cb) < s.redial_prob[k]:
        delay = _sample(s, &cb, s.redial_dist[k])
        child = derive_stream(rng[0], SALT_REDIAL)
        if c < 0:
            c = _new_call(s)
            if c < 0:
                return
            s.calls[c].rng_mem = 0          # blocked at its first attempt: never reached the queue
            s.calls[c].wait_prev = 0.0
        call = &s.calls[c]
        call.k = k
        call.l = l
        call.ivr_entry = ivr_entry
        call.kind = KIND_REDIAL
        call.attempts = attempts + 1
        call.caller = caller
        call.stream = st
        call.rng = child
        call.ivr_outcome = IVR_UNHEARD if (blocked and ivr_entry) else IVR_ROUTED
        call.state = CS_RETRY
        _push(s, now + delay, EV_RETRY, c)
    elif c >= 0:
        _free_call(s, c)


cdef void _admit(State* s, int32_t c, int32_t k, int32_t l, int32_t ivr_entry, int32_t outcome,
                 float64_t ivr_t, int32_t kind, int32_t attempts, int64_t caller, int32_t st,
                 uint64_t rng, float64_t now) noexcept nogil:
    """An attempt reaches the trunks: blocked, or seizes a line and enters the IVR or the queue.

    First attempts come with their IVR draws made at arrival (``c`` = -1);
    redials and repeat calls reuse their slot and draw their IVR time only
    once admitted, and go to their call type's queue after the menu.
    """
    cdef int64_t ix = (s.p_cur * s.K + k) * s.L + l
    cdef bint counted = now >= s.warmup_s
    cdef Call* call
    cdef Call tmp
    cdef bitgen_t cb
    cdef float64_t u
    if counted:
        s.offered[ix] += 1
        if kind == KIND_REDIAL:
            s.redials[ix] += 1
        elif kind == KIND_REPEAT:
            s.repeats[ix] += 1
    if s.trunks >= 0 and s.lines >= s.trunks:
        if counted:
            s.blocked[ix] += 1
        if s.log_on:
            tmp.t_arrive = now
            tmp.ivr_s = 0.0
            tmp.caller = caller
            tmp.attempts = attempts
            tmp.kind = kind
            tmp.stream = st
            tmp.leg = LEG_FIRST
            tmp.k = k
            tmp.l = l
            _log(s, &tmp, OUT_BLOCKED, now, 0.0, -1, 0.0, 0.0, 0.0)
        if c >= 0:
            _maybe_redial(s, c, k, l, ivr_entry, attempts, True, caller, st, &s.calls[c].rng, now)
        else:
            _maybe_redial(s, c, k, l, ivr_entry, attempts, True, caller, st, &rng, now)
        return
    _lines_change(s, now, 1)
    if c >= 0:                      # a redial or repeat call: its own stream
        _call_bg(&cb, &s.calls[c].rng)
    if outcome == IVR_UNHEARD:      # a redial after a block: the IVR's draws, as for a first attempt
        ivr_t = _sample(s, &cb, s.ivr_time_dist)
        u = _uniform(&cb)
        outcome = IVR_CONTAINED if u < s.ivr_cut_contained else (IVR_HANGUP if u < s.ivr_cut_hangup else IVR_ROUTED)
    if c < 0:
        c = _new_call(s)
        if c < 0:
            return
        s.calls[c].rng = rng
        s.calls[c].rng_mem = 0
        s.calls[c].wait_prev = 0.0
    call = &s.calls[c]
    call.t_arrive = now
    call.t_queue = now
    call.p = s.p_cur
    call.k = k
    call.l = l
    call.g = -1
    call.ivr_outcome = outcome
    call.counted = counted
    call.next = -1
    call.prev = -1
    call.kind = kind
    call.attempts = attempts
    call.ivr_entry = ivr_entry
    call.transfer_to = -1
    call.repeat_delay_s = -1.0
    call.leg = LEG_FIRST
    call.conf_s = 0.0
    call.conf_acw = 0
    call.caller = caller
    call.stream = st
    call.ivr_s = 0.0
    if ivr_entry:
        if ivr_t < 0.0:
            _call_bg(&cb, &call.rng)
            ivr_t = _sample(s, &cb, s.ivr_time_dist)
        call.ivr_s = ivr_t
        call.state = CS_IVR
        _push(s, now + ivr_t, EV_IVR_END, c)
    else:
        _enter_queue(s, c, now)


cdef void _retry(State* s, int32_t c, float64_t now) noexcept nogil:
    cdef Call* call = &s.calls[c]
    if s.closed:                    # the center has closed: the caller finds it closed, and is not counted
        _free_call(s, c)
        return
    _admit(s, c, call.k, call.l, call.ivr_entry, call.ivr_outcome, -1.0, call.kind, call.attempts,
           call.caller, call.stream, 0, now)


cdef float64_t _next_arrival(State* s, int32_t st) noexcept nogil:
    """Next arrival of stream st: exact non-homogeneous Poisson.

    One unit-rate exponential is spent across the piecewise-constant rates
    (no thinning, no error at interval borders).
    """
    cdef float64_t e = random_standard_exponential(s.bg_arrival[st])
    cdef float64_t t = s.arr_t[st], end, r, cap
    cdef int32_t p = s.arr_p[st]
    while p < s.P:
        r = s.stream_rate[st * s.P + p] * s.volume
        end = (p + 1) * s.interval_s
        if r > 0.0:
            cap = r * (end - t)
            if e < cap:
                s.arr_p[st] = p
                return t + e / r
            e -= cap
        t = end
        p += 1
    s.arr_p[st] = p
    return INFINITY


cdef void _schedule_arrival(State* s, int32_t st, float64_t now) noexcept nogil:
    # The event time is written now + (t - now), as a delay from now, so
    # that it rounds exactly as a SimPy timeout(t - now) does.
    cdef float64_t t = _next_arrival(s, st)
    if t < s.horizon_s and t < s.closing_s:
        s.arr_t[st] = t
        _push(s, now + (t - now), EV_ARRIVAL, st)


cdef void _arrival(State* s, int32_t st, float64_t now) noexcept nogil:
    cdef int32_t k, l, entry, outcome = IVR_ROUTED
    cdef float64_t ivr_t = 0.0, u
    cdef uint64_t key
    _schedule_arrival(s, st, now)
    s.n_arrivals += 1
    # draws at arrival, in this order: tier, IVR time, IVR outcome, menu choice
    l = _categorical(s.bg[SRC_TIER], &s.stream_tier_cum[st * s.L], s.L)
    entry = s.stream_entry[st]
    if entry < 0:
        ivr_t = _sample(s, s.bg[SRC_IVR_TIME], s.ivr_time_dist)
        u = _uniform(s.bg[SRC_IVR_OUTCOME])
        if u < s.ivr_cut_contained:
            outcome = IVR_CONTAINED
        elif u < s.ivr_cut_hangup:
            outcome = IVR_HANGUP
        k = _categorical(s.bg[SRC_MENU], &s.menu_cum[l * s.K], s.K)
    else:
        k = entry
    key = s.bg[SRC_TALK].next_uint64(s.bg[SRC_TALK].state)     # the caller's own stream
    _admit(s, -1, k, l, entry < 0, outcome, ivr_t, KIND_FIRST, 1, s.n_arrivals - 1, st, key, now)


cdef void _ivr_end(State* s, int32_t c, float64_t now) noexcept nogil:
    cdef Call* call = &s.calls[c]
    cdef int64_t ix = (call.p * s.K + call.k) * s.L + call.l
    if call.ivr_outcome == IVR_ROUTED:
        _enter_queue(s, c, now)
        return
    if call.ivr_outcome == IVR_CONTAINED:
        if call.counted:
            s.contained[ix] += 1
        if s.log_on:
            _log(s, call, OUT_CONTAINED, now, 0.0, -1, 0.0, 0.0, 0.0)
    else:
        if call.counted:
            s.ivr_abandoned[ix] += 1
        if s.log_on:
            _log(s, call, OUT_IVR_ABANDONED, now, 0.0, -1, 0.0, 0.0, 0.0)
    _release(s, c, now)


cdef void _patience_end(State* s, int32_t c, int64_t seq, float64_t now) noexcept nogil:
    cdef Call* call = &s.calls[c]
    cdef int64_t ix
    cdef float64_t wait
    if call.state != CS_WAITING or call.patience_seq != seq:
        return                      # answered already: a lazily cancelled timer
    wait = now - call.t_queue
    _unlink(s, c)
    _queue_change(s, now, -1)
    ix = (call.p * s.K + call.k) * s.L + call.l
    if call.leg != LEG_FIRST:
        if call.counted:
            s.transfer_abandoned[ix] += 1
        _release(s, c, now)
        return
    call.wait_prev += wait
    if call.counted:
        s.abandoned[ix] += 1
        s.abandon_wait_s[ix] += wait
        if wait < s.short_abandon_s:
            s.abandoned_short[ix] += 1
    if s.log_on:
        _log(s, call, OUT_ABANDONED, now, wait, -1, 0.0, 0.0, 0.0)
    _lines_change(s, now, -1)
    _maybe_redial(s, c, call.k, call.l, call.ivr_entry, call.attempts, False, call.caller, call.stream, &call.rng,
                  now)


cdef bint _conference(State* s, int32_t c, float64_t now) noexcept nogil:
    """Talk and HOLD are over and a conference is due: an idle agent who serves the other call type joins
    for its duration (both busy), or, with none idle, the conference is skipped. True when it is held."""
    cdef Call* call = &s.calls[c]
    cdef float64_t d = call.conf_s
    cdef int64_t ix = (call.p * s.K + call.k) * s.L + call.l
    cdef int32_t g2, a2
    call.conf_s = 0.0
    g2 = _pick_group(s, s.conf_with[call.k], call.l, True)
    if g2 < 0:
        if call.counted:
            s.conferences_missed[ix] += 1
        return False
    a2 = _idle_pop(s, g2)
    if call.counted:
        s.conferences[ix] += 1
        s.conference_s[ix] += d
    _add_busy(s, s.service_busy_s, g2, now, now + d)
    _add_busy(s, s.service_busy_s, call.g, now, now + d)
    _push(s, now + d, EV_ACW_END, a2 * s.G + g2)   # the second agent is free again at the end
    _push(s, now + d, EV_SERVICE_END, c)
    return True


cdef void _service_end(State* s, int32_t c, float64_t now) noexcept nogil:
    cdef Call* call = &s.calls[c]
    cdef int32_t g = call.g, a = call.agent
    cdef float64_t acw = call.acw_s
    cdef bint quality = call.quality
    if call.conf_s > 0.0 and call.leg != LEG_OUTBOUND:
        if _conference(s, c, now):
            call.conf_acw = 1       # the agent's ACW starts when the conference ends
            return
        if acw > 0.0:
            _add_busy(s, s.acw_busy_s, g, now, now + acw)
    elif call.conf_acw:
        call.conf_acw = 0
        if acw > 0.0:
            _add_busy(s, s.acw_busy_s, g, now, now + acw)
    if quality:
        s.pending[0] += 1           # a quality call-back is due on this call
    if call.transfer_to >= 0:
        # the caller stays on the line and queues for the specialist type
        if call.counted:
            s.transferred[(call.p * s.K + call.k) * s.L + call.l] += 1
        call.k = call.transfer_to
        call.transfer_to = -1
        call.leg = LEG_TRANSFER
        call.rng = derive_stream(call.rng, SALT_TRANSFER)
        call.g = -1
        _enter_queue(s, c, now)
    elif call.repeat_delay_s >= 0.0:
        _lines_change(s, now, -1)
        call.kind = KIND_REPEAT
        call.attempts = 1
        call.rng = derive_stream(call.rng, SALT_REPEAT)
        call.rng_mem = 0                # a new problem
        call.wait_prev = 0.0
        call.state = CS_RETRY
        _push(s, now + call.repeat_delay_s, EV_RETRY, c)
    else:
        _release(s, c, now)
    if acw > 0.0:
        _push(s, now + acw, EV_ACW_END, a * s.G + g)
    else:
        _agent_free(s, g, a, now)
    if quality:
        _dispatch_outbound(s, now)


cdef void _interval_start(State* s, int32_t p, float64_t now) noexcept nogil:
    """Close interval p - 1 and apply the headcount of interval p.

    Falling headcount sends idle agents home first (longest idle first); the
    rest leave when they finish the call in hand. Rising headcount first
    cancels pending departures, then adds idle agents who take waiting calls.
    """
    cdef int32_t g, target, diff, d, k, l
    _lines_change(s, now, 0)
    _queue_change(s, now, 0)
    for g in range(s.G):
        _staff_change(s, g, now, 0)
    s.p_cur = p
    s.lines_peak[p] = s.lines
    s.queue_peak[p] = s.n_waiting
    for g in range(s.G):
        target = s.headcount[p * s.G + g]
        diff = target - (s.present[g] - s.pending_leave[g])
        if diff < 0:
            d = -diff
            while d > 0 and s.idle_n[g] > 0:
                _idle_pop(s, g)
                _staff_change(s, g, now, -1)
                d -= 1
            s.pending_leave[g] += d
        elif diff > 0:
            d = diff if diff < s.pending_leave[g] else s.pending_leave[g]
            s.pending_leave[g] -= d
            diff -= d
            while diff > 0:
                _staff_change(s, g, now, 1)
                diff -= 1
                _take_work(s, g, _log_in(s, g), now)
    if s.use_overflow:
        _offer_unguarded(s, now)
    if s.unstaffed_disconnect:
        for k in range(s.K):
            if not _on_duty_for(s, k):
                for l in range(s.L):
                    _disconnect_queue(s, k * s.L + l, now)
    _add_campaign_tasks(s, p, now)
    if p + 1 < s.P:
        _push(s, (p + 1) * s.interval_s, EV_INTERVAL, p + 1)
    _schedule_dialer(s, p)


cdef inline void _schedule_dialer(State* s, int32_t p) noexcept nogil:
    """At the start of interval p: the dialer's switch-on, if it falls in this interval (so that a
    switch-on at an interval border comes after that interval's headcount change)."""
    if s.dialer and p * s.interval_s <= s.dl_from_s < (p + 1) * s.interval_s:
        _push(s, s.dl_from_s, EV_DIALER_ON, 0)


cdef void _add_campaign_tasks(State* s, int32_t p, float64_t now) noexcept nogil:
    cdef int32_t w
    cdef bint added = False
    for w in range(s.W):
        if s.campaign_calls[p * s.W + w] > 0:
            s.pending[w] += s.campaign_calls[p * s.W + w]
            added = True
    if added:
        _dispatch_outbound(s, now)


cdef void _close_books(State* s) noexcept nogil:
    """Close the time-weighted levels (lines, queue, agents) of the last interval at the horizon."""
    cdef float64_t now = s.horizon_s
    cdef int32_t g
    _lines_change(s, now, 0)
    _queue_change(s, now, 0)
    for g in range(s.G):
        _staff_change(s, g, now, 0)


cdef void _finish(State* s) noexcept nogil:
    """Close the last interval at the horizon and count calls still in the system."""
    cdef int32_t c, w
    cdef int64_t ix
    if s.closing_mode == CLOSE_CLEAR and not s.closed and s.closing_s <= s.horizon_s:
        _closing(s, s.horizon_s)    # a closing at the horizon still clears the queue
    if not s.past_horizon:
        _close_books(s)
    for c in range(s.calls_cap):
        if s.calls[c].counted and s.calls[c].leg == LEG_FIRST and (
                s.calls[c].state == CS_IVR or s.calls[c].state == CS_WAITING):
            ix = (s.calls[c].p * s.K + s.calls[c].k) * s.L + s.calls[c].l
            if s.calls[c].state == CS_IVR:
                s.in_ivr_end[ix] += 1
            else:
                s.in_queue_end[ix] += 1
        elif s.calls[c].counted and s.calls[c].state == CS_CALLBACK:
            s.callbacks_end[(s.calls[c].p * s.K + s.calls[c].k) * s.L + s.calls[c].l] += 1
    for w in range(s.W):
        s.outbound_end[w] = s.pending[w]


cdef void _begin(State* s) noexcept nogil:
    """t = 0: headcount of interval 0, then first arrivals, then the next border."""
    cdef int32_t st, g
    for g in range(s.G):
        s.present[g] = 0
    s.p_cur = 0
    for g in range(s.G):
        s.present[g] = s.headcount[g]
        for st in range(s.headcount[g]):
            _idle_push(s, g, _log_in(s, g), 0.0)
    _add_campaign_tasks(s, 0, 0.0)
    for st in range(s.S):
        _schedule_arrival(s, st, 0.0)
    if s.P > 1:
        _push(s, s.interval_s, EV_INTERVAL, 1)
    if s.closing_s < INFINITY:
        _push(s, s.closing_s, EV_CLOSING, 0)
    _schedule_dialer(s, 0)


cdef bint _advance(State* s, int32_t stop, float64_t until) noexcept nogil:
    """Process events in order. With ``stop`` >= 1, return True just before the border event of interval
    ``stop`` (nothing of that interval applied yet), or before the first event at or after ``until`` s;
    else, or when the day ends first, return False."""
    cdef Event ev
    while s.heap_n > 0 and not s.error:
        if stop > 0 and (s.heap[0].t >= until or (s.heap[0].kind == EV_INTERVAL and s.heap[0].id == stop)):
            return True
        if s.heap[0].t >= s.horizon_s and not s.past_horizon:
            if s.closing_mode != CLOSE_SERVE:
                break
            _close_books(s)         # serve until empty: the calls in the system go on past the horizon
            s.past_horizon = 1
        _pop(s, &ev)
        s.n_events += 1
        if ev.kind == EV_SERVICE_END:
            _service_end(s, ev.id, ev.t)
        elif ev.kind == EV_ARRIVAL:
            _arrival(s, ev.id, ev.t)
        elif ev.kind == EV_PATIENCE:
            _patience_end(s, ev.id, ev.seq, ev.t)
        elif ev.kind == EV_ACW_END:
            _agent_free(s, ev.id % s.G, ev.id // s.G, ev.t)
        elif ev.kind == EV_IVR_END:
            _ivr_end(s, ev.id, ev.t)
        elif ev.kind == EV_RETRY:
            _retry(s, ev.id, ev.t)
        elif ev.kind == EV_OVERFLOW:
            _overflow(s, ev.id, ev.seq, ev.t)
        elif ev.kind == EV_CALLBACK_OFFER:
            _callback_offer(s, ev.id, ev.seq, ev.t)
        elif ev.kind == EV_MAX_WAIT:
            _max_wait(s, ev.id, ev.seq, ev.t)
        elif ev.kind == EV_CLOSING:
            _closing(s, ev.t)
        elif ev.kind == EV_DIAL_END:
            _dial_end(s, ev.id, ev.t)
        elif ev.kind == EV_MISMATCH:
            _dial_patience(s, ev.id, ev.seq, ev.t)
        elif ev.kind == EV_DIALER_ON:
            s.dl_active = 1
            _dial(s, ev.t)
        else:
            _interval_start(s, ev.id, ev.t)
    return False


cdef void _loop(State* s) noexcept nogil:
    _begin(s)
    _advance(s, -1, INFINITY)
    _finish(s)


# ----------------------------------------------------------------------------
# The one entry point, and the binding of Python arrays to the State
# ----------------------------------------------------------------------------
cdef inline int64_t* _i64(cnp.ndarray a):
    return <int64_t*>cnp.PyArray_DATA(a)


cdef inline float64_t* _f64(cnp.ndarray a):
    return <float64_t*>cnp.PyArray_DATA(a)


cdef inline int32_t* _i32(cnp.ndarray a):
    return <int32_t*>cnp.PyArray_DATA(a)


cdef cnp.ndarray _kept(list keep, a, dtype):
    a = np.ascontiguousarray(a, dtype=dtype)
    keep.append(a)
    return a


cdef void _bind_scenario(State* s, cs, list keep) except *:
    """Point the State at the compiled scenario's arrays (contiguous copies kept alive in ``keep``)."""

    s.P, s.K, s.L, s.G, s.S = cs.n_intervals, cs.n_types, cs.n_tiers, cs.n_groups, cs.n_streams
    s.interval_s = cs.interval_s
    s.horizon_s = s.P * s.interval_s
    s.warmup_s = cs.warmup_s
    s.sl_threshold_k = _f64(_kept(keep, cs.sl_threshold_k, np.float64))
    s.short_abandon_s = cs.short_abandon_s
    s.trunks = cs.trunks
    s.tier_priority = cs.tier_priority
    s.policy = cs.policy
    s.use_overflow = cs.use_overflow
    s.use_reserve = cs.use_reserve
    s.agent_rule = cs.agent_rule
    s.unstaffed_disconnect = cs.unstaffed_disconnect
    s.ivr_cut_contained = cs.ivr_cut_contained
    s.ivr_cut_hangup = cs.ivr_cut_hangup
    s.ivr_time_dist = cs.ivr_time_dist
    s.stream_rate = _f64(_kept(keep, cs.stream_rate, np.float64))
    s.stream_entry = _i32(_kept(keep, cs.stream_entry, np.int32))
    s.stream_tier_cum = _f64(_kept(keep, cs.stream_tier_cum, np.float64))
    s.menu_cum = _f64(_kept(keep, cs.menu_cum, np.float64))
    s.patience_dist = _i32(_kept(keep, cs.patience_dist, np.int32))
    s.patience_scale = _f64(_kept(keep, cs.patience_scale, np.float64))
    s.talk_scale = _f64(_kept(keep, cs.talk_scale, np.float64))
    s.talk_dist = _i32(_kept(keep, cs.talk_dist, np.int32))
    s.hold_prob = _f64(_kept(keep, cs.hold_prob, np.float64))
    s.hold_dist = _i32(_kept(keep, cs.hold_dist, np.int32))
    s.acw_dist = _i32(_kept(keep, cs.acw_dist, np.int32))
    s.headcount = _i32(_kept(keep, cs.headcount, np.int32))
    s.redial_prob = _f64(_kept(keep, cs.redial_prob, np.float64))
    s.redial_dist = _i32(_kept(keep, cs.redial_dist, np.int32))
    s.redial_max = _i32(_kept(keep, cs.redial_max, np.int32))
    s.redial_memory = _i32(_kept(keep, cs.redial_memory, np.int32))
    s.fcr = _f64(_kept(keep, cs.fcr, np.float64))
    s.repeat_dist = _i32(_kept(keep, cs.repeat_dist, np.int32))
    s.transfer_prob = _f64(_kept(keep, cs.transfer_prob, np.float64))
    s.transfer_to = _i32(_kept(keep, cs.transfer_to, np.int32))
    s.transfer_multi = _i32(_kept(keep, cs.transfer_multi, np.int32))
    s.transfer_cum = _f64(_kept(keep, cs.transfer_cum, np.float64))
    s.overflow_after_s = _f64(_kept(keep, cs.overflow_after_s, np.float64))
    s.primary_level = _i32(_kept(keep, cs.primary_level, np.int32))
    s.reserve_n = _i32(_kept(keep, cs.reserve_n, np.int32))
    s.reserve_tier = _i32(_kept(keep, cs.reserve_tier, np.int32))
    s.reserve_type = _i32(_kept(keep, cs.reserve_type, np.int32))
    s.weight = _f64(_kept(keep, cs.weight, np.float64))
    s.service_mean_s = _f64(_kept(keep, cs.service_mean_s, np.float64))
    s.cb_offer_after_s = _f64(_kept(keep, cs.cb_offer_after_s, np.float64))
    s.cb_accept = _f64(_kept(keep, cs.cb_accept, np.float64))
    s.cb_within_s = _f64(_kept(keep, cs.cb_within_s, np.float64))
    s.quality_share = _f64(_kept(keep, cs.quality_share, np.float64))
    s.balk_prob = _f64(_kept(keep, cs.balk_prob, np.float64))
    s.balk_nb = cs.balk_prob.shape[2]
    s.any_balking = bool(np.any(cs.balk_prob > 0))
    s.max_wait_s = _f64(_kept(keep, cs.max_wait_s, np.float64))
    s.max_wait_action = _i32(_kept(keep, cs.max_wait_action, np.int32))
    s.q_cap = _i64(_kept(keep, cs.queue_capacity, np.int64))
    s.conf_prob = _f64(_kept(keep, cs.conf_prob, np.float64))
    s.conf_with = _i32(_kept(keep, cs.conf_with, np.int32))
    s.conf_dist = _i32(_kept(keep, cs.conf_dist, np.int32))
    s.closing_s = cs.closing_s
    s.closing_mode = cs.closing_mode
    s.closed = 0
    s.past_horizon = 0
    s.W = cs.n_tasks
    s.out_groups = _i32(_kept(keep, cs.out_groups, np.int32))
    s.out_talk_dist = _i32(_kept(keep, cs.out_talk_dist, np.int32))
    s.out_acw_dist = _i32(_kept(keep, cs.out_acw_dist, np.int32))
    s.campaign_calls = _i32(_kept(keep, cs.campaign_calls, np.int32))
    s.blend_max_queue = cs.blend_max_queue
    s.blend_min_idle = cs.blend_min_idle
    s.dialer = cs.dialer
    s.dl_groups = _i32(_kept(keep, cs.dl_groups, np.int32))
    s.dl_from_s = cs.dl_from_s
    s.dl_to_s = cs.dl_to_s
    s.dl_ratio = cs.dl_ratio
    s.dl_extra = cs.dl_extra
    s.dl_min_idle = cs.dl_min_idle
    s.dl_reach = _f64(_kept(keep, cs.dl_reach, np.float64))
    s.dl_time_dist = cs.dl_time_dist
    s.dl_patience_dist = cs.dl_patience_dist
    s.dl_talk_dist = cs.dl_talk_dist
    s.dl_acw_dist = cs.dl_acw_dist
    s.dl_active = 0
    s.dl_pending = 0
    s.dl_head = -1
    s.dl_tail = -1
    s.tg_ptr = _i32(_kept(keep, cs.type_groups_ptr, np.int32))
    s.tg_group = _i32(_kept(keep, cs.type_groups, np.int32))
    s.tg_level = _i32(_kept(keep, cs.type_groups_level, np.int32))
    s.gt_ptr = _i32(_kept(keep, cs.group_types_ptr, np.int32))
    s.gt_type = _i32(_kept(keep, cs.group_types, np.int32))
    s.gt_level = _i32(_kept(keep, cs.group_types_level, np.int32))
    s.dist_values = _f64(_kept(keep, cs.dist_values, np.float64))


cdef void _bind_stats(State* s, dict stats) except *:
    """Point the State's counters at the caller's zeroed arrays (simcc.engine.contract.new_stats)."""
    cdef str name
    for name in STAT_NAMES:
        a = stats[name]
        if not (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.flags.writeable):
            raise ValueError(f"statistics array {name!r} must be a writeable C-contiguous numpy array")
    s.offered = _i64(stats["offered"]); s.blocked = _i64(stats["blocked"])
    s.contained = _i64(stats["contained"]); s.ivr_abandoned = _i64(stats["ivr_abandoned"])
    s.queued = _i64(stats["queued"]); s.abandoned = _i64(stats["abandoned"])
    s.abandoned_short = _i64(stats["abandoned_short"])
    s.balked = _i64(stats["balked"]); s.messages = _i64(stats["messages"])
    s.disconnected = _i64(stats["disconnected"]); s.queue_full = _i64(stats["queue_full"])
    s.conferences = _i64(stats["conferences"]); s.conferences_missed = _i64(stats["conferences_missed"])
    s.conference_s = _f64(stats["conference_s"])
    s.in_ivr_end = _i64(stats["in_ivr_end"]); s.in_queue_end = _i64(stats["in_queue_end"])
    s.redials = _i64(stats["redials"]); s.repeats = _i64(stats["repeats"])
    s.unresolved = _i64(stats["unresolved"]); s.transferred = _i64(stats["transferred"])
    s.transfer_answered = _i64(stats["transfer_answered"])
    s.transfer_abandoned = _i64(stats["transfer_abandoned"])
    s.transfer_disconnected = _i64(stats["transfer_disconnected"])
    s.callbacks = _i64(stats["callbacks"]); s.callbacks_done = _i64(stats["callbacks_done"])
    s.callbacks_within = _i64(stats["callbacks_within"]); s.callbacks_end = _i64(stats["callbacks_end"])
    s.callback_wait_s = _f64(stats["callback_wait_s"])
    s.outbound_done = _i64(stats["outbound_done"]); s.outbound_end = _i64(stats["outbound_end"])
    s.outbound_busy_s = _f64(stats["outbound_busy_s"])
    s.dials = _i64(stats["dials"]); s.dial_contacts = _i64(stats["dial_contacts"])
    s.dial_served = _i64(stats["dial_served"]); s.mismatches = _i64(stats["mismatches"])
    s.wait_hist = _i64(stats["wait_hist"])
    s.abandon_wait_s = _f64(stats["abandon_wait_s"])
    s.answered = _i64(stats["answered"]); s.answered_within = _i64(stats["answered_within"])
    s.answered_within_total = _i64(stats["answered_within_total"])
    s.held = _i64(stats["held"])
    s.wait_s = _f64(stats["wait_s"]); s.wait_max_s = _f64(stats["wait_max_s"])
    s.talk_s = _f64(stats["talk_s"]); s.hold_s = _f64(stats["hold_s"]); s.acw_s = _f64(stats["acw_s"])
    s.staffed_s = _f64(stats["staffed_s"]); s.service_busy_s = _f64(stats["service_busy_s"])
    s.acw_busy_s = _f64(stats["acw_busy_s"])
    s.lines_s = _f64(stats["lines_s"]); s.queue_s = _f64(stats["queue_s"])
    s.lines_peak = _i64(stats["lines_peak"]); s.queue_peak = _i64(stats["queue_peak"])


cdef void _alloc_state(State* s, cs, int32_t n_dists, bint call_log, int32_t idle_room=0) except *:
    """The loop's own memory: event heap, call slots, queues, idle rings, call log."""
    cdef int32_t i, g, K = s.K, L = s.L, G = s.G, S = s.S
    s.bg_arrival = <bitgen_t**>malloc(max(S, 1) * sizeof(bitgen_t*))
    s.bg = <bitgen_t**>malloc(N_SOURCES * sizeof(bitgen_t*))
    s.dists = <Dist*>malloc(max(n_dists, 1) * sizeof(Dist))
    s.heap_cap = 1024
    s.heap = <Event*>malloc(s.heap_cap * sizeof(Event))
    s.calls_cap = 1024
    s.calls = <Call*>malloc(s.calls_cap * sizeof(Call))
    s.q_head = <int32_t*>malloc(K * L * sizeof(int32_t))
    s.q_tail = <int32_t*>malloc(K * L * sizeof(int32_t))
    s.cb_head = <int32_t*>malloc(K * sizeof(int32_t))
    s.cb_tail = <int32_t*>malloc(K * sizeof(int32_t))
    s.k_waiting = <int64_t*>malloc(K * sizeof(int64_t))
    s.pending = <int64_t*>malloc(max(s.W, 1) * sizeof(int64_t))
    s.arr_t = <float64_t*>malloc(max(S, 1) * sizeof(float64_t))
    s.arr_p = <int32_t*>malloc(max(S, 1) * sizeof(int32_t))
    s.idle_cap = max(1, int(np.max(cs.headcount)) + 1 if cs.headcount.size else 1) + idle_room
    s.idle_t = <float64_t*>malloc(G * s.idle_cap * sizeof(float64_t))
    s.idle_id = <int32_t*>malloc(G * s.idle_cap * sizeof(int32_t))
    s.next_agent = <int32_t*>malloc(G * sizeof(int32_t))
    s.idle_head = <int32_t*>malloc(G * sizeof(int32_t))
    s.idle_n = <int32_t*>malloc(G * sizeof(int32_t))
    s.present = <int32_t*>malloc(G * sizeof(int32_t))
    s.pending_leave = <int32_t*>malloc(G * sizeof(int32_t))
    s.staff_t = <float64_t*>malloc(G * sizeof(float64_t))
    s.log_on = call_log
    s.log_cap = 1024
    s.log = <LogRec*>malloc(s.log_cap * sizeof(LogRec))
    if (s.bg_arrival == NULL or s.bg == NULL or s.dists == NULL or s.heap == NULL
            or s.calls == NULL or s.q_head == NULL or s.q_tail == NULL
            or s.arr_t == NULL or s.arr_p == NULL or s.idle_t == NULL or s.idle_id == NULL
            or s.next_agent == NULL
            or s.idle_head == NULL or s.idle_n == NULL or s.present == NULL
            or s.pending_leave == NULL or s.staff_t == NULL or s.log == NULL
            or s.cb_head == NULL or s.cb_tail == NULL or s.pending == NULL or s.k_waiting == NULL):
        raise MemoryError("simcc kernel: cannot allocate its state")
    for i in range(S):
        s.arr_t[i] = 0.0
        s.arr_p[i] = 0
    for i in range(s.calls_cap):
        s.calls[i].next = i + 1 if i + 1 < s.calls_cap else -1
        s.calls[i].state = CS_FREE
        s.calls[i].counted = 0
    s.free_call = 0
    for i in range(K * L):
        s.q_head[i] = -1
        s.q_tail[i] = -1
    for i in range(K):
        s.cb_head[i] = -1
        s.cb_tail[i] = -1
        s.k_waiting[i] = 0
    for i in range(s.W):
        s.pending[i] = 0
    for g in range(G):
        s.idle_head[g] = 0
        s.idle_n[g] = 0
        s.next_agent[g] = 0
        s.present[g] = 0
        s.pending_leave[g] = 0
        s.staff_t[g] = 0.0


cdef void _free_state(State* s) noexcept:
    free(s.bg_arrival); free(s.bg); free(s.dists); free(s.heap); free(s.calls)
    free(s.q_head); free(s.q_tail); free(s.arr_t); free(s.arr_p)
    free(s.idle_t); free(s.idle_id); free(s.next_agent); free(s.idle_head); free(s.idle_n); free(s.present)
    free(s.pending_leave); free(s.staff_t); free(s.log); free(s.k_waiting)
    free(s.cb_head); free(s.cb_tail); free(s.pending)


cdef object _call_log(State* s):
    log = np.empty(s.log_n, dtype=LOG_DTYPE)
    cdef int64_t i
    for i in range(s.log_n):
        log[i] = (s.log[i].t_arrive, s.log[i].t_end, s.log[i].wait_s, s.log[i].ivr_s,
                  s.log[i].talk_s, s.log[i].hold_s, s.log[i].acw_s, s.log[i].caller,
                  s.log[i].attempt, s.log[i].kind, s.log[i].stream, s.log[i].leg,
                  s.log[i].k, s.log[i].l, s.log[i].outcome, s.log[i].g, s.log[i].agent)
    return log


cdef int32_t _setup(State* s, cs, arrival_bitgens, source_bitgens, dict stats, double volume, bint call_log,
                    list keep, int32_t idle_room=0) except -1:
    """Bind a compiled scenario, the statistics arrays and the bit generators to a zeroed State and
    allocate its memory; returns the number of distributions."""
    cdef int32_t i, D
    if len(arrival_bitgens) != cs.n_streams or len(source_bitgens) != N_SOURCES:
        raise ValueError("run() needs one bit generator per arrival stream and per source")
    _bind_scenario(s, cs, keep)
    _bind_stats(s, stats)
    s.volume = volume
    dcode = np.ascontiguousarray(cs.dist_code, dtype=np.int32)
    dn = np.ascontiguousarray(cs.dist_n, dtype=np.int32)
    doff = np.ascontiguousarray(cs.dist_offset, dtype=np.int64)
    da = np.ascontiguousarray(cs.dist_a, dtype=np.float64)
    db = np.ascontiguousarray(cs.dist_b, dtype=np.float64)
    D = dcode.shape[0]
    _alloc_state(s, cs, D, call_log, idle_room)
    for i in range(s.S):
        s.bg_arrival[i] = <bitgen_t*>PyCapsule_GetPointer(arrival_bitgens[i].capsule, "BitGenerator")
    for i in range(N_SOURCES):
        s.bg[i] = <bitgen_t*>PyCapsule_GetPointer(source_bitgens[i].capsule, "BitGenerator")
    for i in range(D):
        s.dists[i].code = dcode[i]
        s.dists[i].n = dn[i]
        s.dists[i].offset = doff[i]
        s.dists[i].a = da[i]
        s.dists[i].b = db[i]
    return D


def run(cs, arrival_bitgens, source_bitgens, dict stats, double volume=1.0, bint call_log=False):
    """Run one replication of a compiled scenario.

    Parameters
    ----------
    cs : simcc.engine.compile.CompiledScenario
        Flat arrays of one valid scenario.
    arrival_bitgens : sequence of numpy.random.BitGenerator
        One per arrival stream.
    source_bitgens : sequence of numpy.random.BitGenerator
        One per random source, indexed by ``SOURCE_IDS``.
    stats : dict of numpy.ndarray
        Zeroed statistics arrays (``simcc.engine.contract.new_stats(cs)``), filled in place.
    volume : float
        Day-level volume factor (already drawn) multiplying all rates.
    call_log : bool
        Also return one record per call outcome (``LOG_DTYPE``).

    Returns
    -------
    dict
        ``n_events`` and ``n_arrivals``, and ``call_log`` when asked for.
    """
    cdef State s
    cdef list keep = []             # arrays whose buffers the loop borrows
    memset(&s, 0, sizeof(State))
    # bit generators: borrow the C struct behind each, holding every lock
    bgs = list(arrival_bitgens) + list(source_bitgens)
    locks = [b.lock for b in bgs]
    for lock in locks:
        lock.acquire()
    try:
        _setup(&s, cs, arrival_bitgens, source_bitgens, stats, volume, call_log, keep)
        with nogil:
            _loop(&s)
        if s.error:
            raise MemoryError("simcc kernel: out of memory while running")
        out = {"n_events": s.n_events, "n_arrivals": s.n_arrivals}
        if call_log:
            out["call_log"] = _call_log(&s)
    finally:
        for lock in locks:
            lock.release()
        _free_state(&s)
    return out


cdef void* _dup(void* src, size_t n) except NULL:
    cdef void* dst = malloc(n if n > 0 else 1)
    if dst == NULL:
        raise MemoryError("simcc kernel: cannot copy a day's state")
    if n > 0:
        memcpy(dst, src, n)
    return dst


cdef class Day:
    """One replication's day that can stop at an interval border, be copied, take another headcount for
    the intervals still to come, and go on, with the same events, draws and statistics as :func:`run`.

    Made by :func:`start_day`. A copy owns all of its state (event list, calls, queues, agents,
    statistics, bit generators), so a copy and its original go on independently; a day that goes on
    with the same headcount ends exactly as one uninterrupted :func:`run`. Staffing searches use this to
    judge a candidate that differs from the current plan only from some interval on without simulating
    the intervals before it again.
    """
    cdef State s
    cdef list keep                  # arrays the State borrows: scenario, headcount
    cdef public dict stats          # the statistics arrays, filled in place
    cdef list arrival_bitgens
    cdef list source_bitgens
    cdef int32_t n_dists
    cdef bint allocated
    cdef public bint finished

    def __cinit__(self):
        memset(&self.s, 0, sizeof(State))
        self.allocated = False
        self.finished = False

    def __dealloc__(self):
        if self.allocated:
            _free_state(&self.s)

    @property
    def border(self):
        """The next interval border, whose headcount is not applied yet (P once the day has ended)."""
        if self.finished:
            return self.s.P
        return self.s.p_cur + 1

    @property
    def ended(self):
        """Intervals that have ended: the day stands at or after the end of each (P once it has ended)."""
        if self.finished:
            return self.s.P
        if self.s.heap_n > 0 and self.s.heap[0].t >= (self.s.p_cur + 1) * self.s.interval_s:
            return self.s.p_cur + 1
        return self.s.p_cur

    @property
    def interval_s(self):
        return self.s.interval_s

    @property
    def now(self):
        """Time of the next event, s (where the day stands)."""
        return self.s.heap[0].t if self.s.heap_n > 0 else self.s.horizon_s

    @property
    def counters(self):
        return {"n_events": self.s.n_events, "n_arrivals": self.s.n_arrivals}

    def advance(self, int32_t stop, double until_s=INFINITY):
        """Go on until just before the border of interval ``stop`` (1 <= stop < P), or to the end of the
        day (``stop`` >= P); with ``until_s``, stop earlier, before the first event at or after that time
        (a pause: going on from there changes nothing, and a headcount set then applies from the next
        border). Returns the border the day stands before (P once it has ended)."""
        cdef bint stopped
        if self.finished:
            return self.s.P
        if stop >= self.s.P:
            stop = self.s.P if until_s < INFINITY else -1
        with nogil:
            stopped = _advance(&self.s, stop, until_s)
            if not stopped:
                _finish(&self.s)
        if self.s.error:
            raise MemoryError("simcc kernel: out of memory while running")
        if not stopped:
            self.finished = True
        return self.border

    def set_headcount(self, headcount):
        """Agents per interval and group [P, G] for the borders still to come (earlier rows are not read)."""
        hc = np.ascontiguousarray(headcount, dtype=np.int32)
        if hc.shape[0] != self.s.P or hc.shape[1] != self.s.G:
            raise ValueError(f"headcount must be [{self.s.P}, {self.s.G}], not {list(hc.shape)}")
        if hc.size and (int(hc.max()) + 1 > self.s.idle_cap or int(hc.min()) < 0):
            raise ValueError("headcount outside what this day was started with (its most agents in one group)")
        self.keep.append(hc)
        self.s.headcount = _i32(hc)

    def unsettled_from(self):
        """The earliest interval with a counted caller still in the IVR or waiting for an agent (P if none):
        the service level and abandonment of every earlier interval that has ended are final."""
        cdef int32_t c, p = self.s.P
        for c in range(self.s.calls_cap):
            if (self.s.calls[c].counted and self.s.calls[c].leg == LEG_FIRST and self.s.calls[c].p < p and
                    (self.s.calls[c].state == CS_IVR or self.s.calls[c].state == CS_WAITING)):
                p = self.s.calls[c].p
        return p

    def copy(self):
        """An independent copy of this day, where it stands."""
        cdef Day d = Day.__new__(Day)
        cdef State* a = &self.s
        cdef State* b = &d.s
        cdef int32_t i, K = a.K, L = a.L, G = a.G, S = a.S
        memcpy(b, a, sizeof(State))
        # nothing below may fail half-way with b pointing at a's memory: clear every owned pointer first
        b.bg_arrival = NULL; b.bg = NULL; b.dists = NULL; b.heap = NULL; b.calls = NULL
        b.q_head = NULL; b.q_tail = NULL; b.cb_head = NULL; b.cb_tail = NULL; b.k_waiting = NULL
        b.pending = NULL; b.arr_t = NULL; b.arr_p = NULL; b.idle_t = NULL; b.idle_id = NULL
        b.next_agent = NULL; b.idle_head = NULL; b.idle_n = NULL; b.present = NULL
        b.pending_leave = NULL; b.staff_t = NULL; b.log = NULL
        d.allocated = True
        d.finished = self.finished
        d.n_dists = self.n_dists
        d.keep = list(self.keep)
        b.bg_arrival = <bitgen_t**>_dup(a.bg_arrival, max(S, 1) * sizeof(bitgen_t*))
        b.bg = <bitgen_t**>_dup(a.bg, N_SOURCES * sizeof(bitgen_t*))
        b.dists = <Dist*>_dup(a.dists, max(self.n_dists, 1) * sizeof(Dist))
        b.heap = <Event*>_dup(a.heap, a.heap_cap * sizeof(Event))
        b.calls = <Call*>_dup(a.calls, a.calls_cap * sizeof(Call))
        b.q_head = <int32_t*>_dup(a.q_head, K * L * sizeof(int32_t))
        b.q_tail = <int32_t*>_dup(a.q_tail, K * L * sizeof(int32_t))
        b.cb_head = <int32_t*>_dup(a.cb_head, K * sizeof(int32_t))
        b.cb_tail = <int32_t*>_dup(a.cb_tail, K * sizeof(int32_t))
        b.k_waiting = <int64_t*>_dup(a.k_waiting, K * sizeof(int64_t))
        b.pending = <int64_t*>_dup(a.pending, max(a.W, 1) * sizeof(int64_t))
        b.arr_t = <float64_t*>_dup(a.arr_t, max(S, 1) * sizeof(float64_t))
        b.arr_p = <int32_t*>_dup(a.arr_p, max(S, 1) * sizeof(int32_t))
        b.idle_t = <float64_t*>_dup(a.idle_t, G * a.idle_cap * sizeof(float64_t))
        b.idle_id = <int32_t*>_dup(a.idle_id, G * a.idle_cap * sizeof(int32_t))
        b.next_agent = <int32_t*>_dup(a.next_agent, G * sizeof(int32_t))
        b.idle_head = <int32_t*>_dup(a.idle_head, G * sizeof(int32_t))
        b.idle_n = <int32_t*>_dup(a.idle_n, G * sizeof(int32_t))
        b.present = <int32_t*>_dup(a.present, G * sizeof(int32_t))
        b.pending_leave = <int32_t*>_dup(a.pending_leave, G * sizeof(int32_t))
        b.staff_t = <float64_t*>_dup(a.staff_t, G * sizeof(float64_t))
        b.log = <LogRec*>_dup(a.log, a.log_cap * sizeof(LogRec))
        # statistics and bit generators of its own
        d.stats = {k: v.copy() for k, v in self.stats.items()}
        _bind_stats(b, d.stats)
        d.arrival_bitgens = [_bitgen_copy(x) for x in self.arrival_bitgens]
        d.source_bitgens = [_bitgen_copy(x) for x in self.source_bitgens]
        for i in range(S):
            b.bg_arrival[i] = <bitgen_t*>PyCapsule_GetPointer(d.arrival_bitgens[i].capsule, "BitGenerator")
        for i in range(N_SOURCES):
            b.bg[i] = <bitgen_t*>PyCapsule_GetPointer(d.source_bitgens[i].capsule, "BitGenerator")
        return d


def _bitgen_copy(bg):
    new = type(bg)(0)
    new.state = bg.state
    return new


def start_day(cs, arrival_bitgens, source_bitgens, dict stats, double volume=1.0, int32_t idle_room=0):
    """A :class:`Day` of one replication at t = 0 (arguments as for :func:`run`, without a call log);
    ``idle_room`` agents per group beyond the scenario's most may later be given by ``set_headcount``.

    The day owns the bit generators it is given (nobody else may draw from them while it lives)."""
    cdef Day d = Day.__new__(Day)
    d.keep = []
    d.stats = stats
    d.arrival_bitgens = list(arrival_bitgens)
    d.source_bitgens = list(source_bitgens)
    d.allocated = True
    d.n_dists = _setup(&d.s, cs, d.arrival_bitgens, d.source_bitgens, stats, volume, False, d.keep, idle_room)
    with nogil:
        _begin(&d.s)
    if d.s.error:
        raise MemoryError("simcc kernel: out of memory while running")
    return d
