# cython: language_level=3
"""The kernel's contract: typedefs, enums and C structs shared by the event loop.

`simcc.engine.contract` holds the same codes for the Python layers (the
compiler and the SimPy reference); `tests/engine/test_contract.py` checks that
they agree with the tables this kernel exports, in both directions.
"""
from libc.stdint cimport int32_t, int64_t, uint64_t
from numpy.random cimport bitgen_t

ctypedef double float64_t
ctypedef Py_ssize_t intp_t

cdef enum:                  # EventKind
    EV_ARRIVAL = 0          # id = arrival stream s
    EV_IVR_END = 1          # id = call slot; caller leaves the menu
    EV_PATIENCE = 2         # id = call slot; stale unless the call still waits and seq matches
    EV_SERVICE_END = 3      # id = call slot; talk + hold done, line released
    EV_ACW_END = 4          # id = agent * G + group; the agent becomes free
    EV_INTERVAL = 5         # id = interval p that starts now
    EV_RETRY = 6            # id = call slot; a redial or repeat call arrives again
    EV_OVERFLOW = 7         # id = call slot; the call becomes eligible for secondary groups
    EV_CALLBACK_OFFER = 8   # id = call slot; the waiting caller is offered a callback
    EV_MAX_WAIT = 9         # id = call slot; the caller has waited max_wait: message or disconnection
    EV_CLOSING = 10         # id = 0; the center closes: no more arrivals (and the queue is cleared)
    EV_DIALER_ON = 11       # id = 0; the predictive dialer switches on and dials
    EV_DIAL_END = 12        # id = call slot; a dial's dialling time is over: reached or not
    EV_MISMATCH = 13        # id = call slot; a reached party's patience is over (stale unless seq matches)

cdef enum:                  # DistCode
    D_DETERMINISTIC = 0     # a = value; draws nothing
    D_EXPONENTIAL = 1       # a = mean
    D_UNIFORM = 2           # a = low, b = high - low
    D_LOGNORMAL = 3         # a = mu, b = sigma of the underlying normal
    D_GAMMA = 4             # a = shape, b = scale (erlang-k is gamma with integer shape)
    D_WEIBULL = 5           # a = shape, b = scale
    D_EMPIRICAL = 6         # values[offset : offset + n], each equally likely
    D_NEVER = 7             # +inf (patience of a caller who never hangs up); draws nothing
    D_TRIANGULAR = 8        # values[offset : offset + 3] = low, mode, high; one uniform, inverse CDF

cdef enum:                  # Source
    SRC_ARRIVAL = 0         # one stream per arrival stream s: spawn_key (rep, 0, s)
    SRC_TIER = 1
    SRC_IVR_TIME = 2
    SRC_IVR_OUTCOME = 3
    SRC_MENU = 4
    SRC_PATIENCE = 5
    SRC_TALK = 6
    SRC_HOLD_FLAG = 7
    SRC_HOLD_TIME = 8
    SRC_ACW = 9
    SRC_VOLUME = 10
    SRC_REDIAL = 11         # redial decision and delay
    SRC_REPEAT = 12         # first-call resolution draw and repeat delay
    SRC_TRANSFER = 13
    SRC_CALLBACK = 14
    SRC_OUTBOUND = 15
    SRC_BALK = 16           # balking decision of a caller who would have to wait
    SRC_ROUTE = 17          # random choice of the agent who takes an arriving call
    SRC_DIALER = 18         # predictive dialer: reach, dialling time; patience, talk, ACW of reached parties
    N_SOURCES = 19

cdef enum:                  # CallState
    CS_FREE = 0
    CS_IVR = 1
    CS_WAITING = 2
    CS_SERVICE = 3
    CS_RETRY = 4            # waiting to call again (redial or repeat); holds no line
    CS_CALLBACK = 5         # accepted a callback: waits for an agent to call back, holds no line
    CS_DIALING = 6          # a dial in progress (holds a line)
    CS_DIALED = 7           # a reached party waiting for an agent (holds a line)

cdef enum:                  # call kinds (why this attempt happens)
    KIND_FIRST = 0
    KIND_REDIAL = 1         # after being blocked or abandoning
    KIND_REPEAT = 2         # the problem was not solved on the last call

cdef enum:                  # Leg: which part of a call an agent serves
    LEG_FIRST = 0           # the caller's own call
    LEG_TRANSFER = 1        # after a transfer to a specialist call type (not counted again)
    LEG_OUTBOUND = 2        # outbound work: a callback, a quality call-back or a campaign call

cdef enum:                  # IvrOutcome
    IVR_ROUTED = 0
    IVR_CONTAINED = 1
    IVR_HANGUP = 2
    IVR_UNHEARD = 3         # a redial of a caller blocked before the IVR: its outcome is drawn on admission

cdef enum:                  # Outcome (call log codes)
    OUT_BLOCKED = 0
    OUT_CONTAINED = 1
    OUT_IVR_ABANDONED = 2
    OUT_ANSWERED = 3
    OUT_ABANDONED = 4
    OUT_CALLBACK = 5        # accepted a callback offer
    OUT_CALLED_BACK = 6     # an agent made the callback
    OUT_BALKED = 7          # left at once instead of waiting
    OUT_MESSAGE = 8         # sent to a message after max_wait
    OUT_DISCONNECTED = 9    # disconnected after max_wait, or waiting when the queue closed
    OUT_QUEUE_FULL = 10     # found the queue full

cdef enum:                  # Closing: what happens to waiting callers when the center closes
    CLOSE_NONE = 0
    CLOSE_SERVE = 1         # served until the queue is empty (past the horizon if need be)
    CLOSE_CLEAR = 2         # disconnected at closing

cdef enum:                  # AgentRule: which idle agent takes an arriving call (best skill level first)
    AGENT_LONGEST_IDLE = 0  # the longest-idle agent among the groups at that level
    AGENT_RANDOM = 1        # an idle agent at that level, each equally likely
    AGENT_GROUP_ORDER = 2   # an agent of the first group (file order) at that level

cdef enum:                  # MaxWaitAction
    MW_MESSAGE = 0
    MW_DISCONNECT = 1
    MW_CALLBACK = 2         # a message, and the caller is called back (callback list)

cdef enum:                  # Policy: how a freed agent chooses among waiting calls
    POL_PRIORITY = 0        # best skill level first, then longest waiting (higher tier first)
    POL_WEIGHTED_WAIT = 1   # largest weight x wait / mean service time (generalized c-mu)

cdef enum:
    WAIT_BINS = 601         # answered-wait histogram: [0] no wait, [b] b-1 < wait <= b s, [600] over 599 s

ctypedef struct Event:
    float64_t t             # event time, seconds from the start of the horizon
    int64_t seq             # scheduling order; breaks ties in t (never random)
    int32_t kind            # EventKind
    int32_t id              # stream, call slot, group or interval (see EventKind)

ctypedef struct Dist:
    int32_t code            # DistCode
    int32_t n               # empirical: number of values
    int64_t offset          # empirical: first value in the shared values table
    float64_t a             # first parameter (see DistCode)
    float64_t b             # second parameter (see DistCode)

ctypedef struct Call:
    float64_t t_arrive      # arrival time, s
    float64_t t_queue       # time the call reached the agent queue, s
    float64_t acw_s         # after-call work drawn at answer, s
    float64_t ivr_s         # IVR menu time of this attempt, s (0 without IVR)
    int64_t caller          # caller id: index of the caller's first arrival (call log)
    uint64_t rng            # the call's own random stream (SplitMix64 state)
    uint64_t rng_mem        # its state on first reaching the queue (replayed by redials with memory), 0 = none
    float64_t wait_prev     # waits of this caller's earlier attempts at this problem, s
    float64_t conf_s        # conference due after talk and HOLD, s (0 = none)
    float64_t talk_s        # dialled call: talk drawn when the party answered, s
    int32_t conf_acw        # 1: a conference was held; book the agent's ACW at the call's end
    int32_t stream          # arrival stream the caller came from (call log)
    float64_t repeat_delay_s  # unresolved: calls again this long after hang-up; -1 = resolved
    int64_t patience_seq    # seq of the live patience event (lazy cancellation)
    int64_t overflow_seq    # seq of the live overflow event (lazy cancellation)
    int64_t offer_seq       # seq of the live callback-offer event (lazy cancellation)
    int64_t maxwait_seq     # seq of the live max-wait event (lazy cancellation)
    int32_t next            # next call in the queue, or next free slot; -1 = none
    int32_t prev            # previous call in the queue; -1 = none
    int32_t p               # interval of arrival
    int32_t k               # call type
    int32_t l               # customer tier (0 = highest priority)
    int32_t g               # answering group, -1 before answer
    int32_t agent           # answering agent's number within its group (log-in order), -1 before answer
    int32_t state           # CallState
    int32_t ivr_outcome     # IvrOutcome drawn at arrival
    int32_t counted         # 1 if the call arrived after the warm-up
    int32_t kind            # KIND_FIRST, KIND_REDIAL or KIND_REPEAT
    int32_t attempts        # attempts so far for this problem (redials count)
    int32_t ivr_entry       # 1 if the caller dials into the IVR
    int32_t transfer_to     # call type to transfer to after talk, -1 = none
    int32_t leg             # Leg
    int32_t quality         # 1 = a quality call-back is due after this call
    int32_t reached         # dialled call: 1 if it reaches the right party

ctypedef struct LogRec:
    float64_t t_arrive      # arrival time, s
    float64_t t_end         # time of the outcome, s
    float64_t wait_s        # time in the agent queue (answered / abandoned), s
    float64_t ivr_s         # time in the IVR menu, s
    float64_t talk_s        # talk, s (answered, called back)
    float64_t hold_s        # HOLD, s (answered, called back)
    float64_t acw_s         # after-call work, s (answered, called back)
    int64_t caller          # caller id (first arrival index; kept by redials and repeat calls)
    int32_t attempt         # attempt number for this problem (redials count)
    int32_t kind            # CallKind
    int32_t stream          # arrival stream
    int32_t leg             # Leg
    int32_t k               # call type
    int32_t l               # tier
    int32_t outcome         # Outcome
    int32_t g               # answering group or -1
    int32_t agent           # answering agent's number within its group, or -1
