import DequeModule
import ECMPCore
import HeapModule
import NIOConcurrencyHelpers
import NIOPosix

/// TCP checks on one thread of their own: a non-blocking connect per check,
/// its completion read from epoll, a close with a reset, and every deadline
/// (the next check, a retry, a connect's timeout) in a first-in first-out
/// queue per distinct duration; only first checks and late ones use a
/// heap. A healthy check costs five system calls (socket, setsockopt,
/// connect, epoll_ctl, close; a failed one adds getsockopt; a `via_vip`
/// one adds the source lookup's four, two setsockopt and bind) and no channel:
/// SwiftNIO's channel, pipeline and promises per connection cost 2.4 times
/// keepalived's CPU at 1,000 checks a second (docs/benchmarks.md), so TCP,
/// the check a large fleet runs most, skips them. HTTP, HTTPS and exec
/// checks stay on NIO.
///
/// Scheduling matches `HealthChecker`'s contract: fixed-rate without
/// overlap from a phase inside the interval; `retries - 1` retries
/// `retry_delay` apart inside one check. Each decided outcome goes to
/// `onOutcome` on the reactor's thread; when that returns false (the target
/// was replaced or removed) the target's checks end.
///
/// All state below `onOutcome` is confined to the reactor's thread; other
/// threads only queue commands and wake it through an eventfd.
final class TCPCheckReactor: @unchecked Sendable {
    typealias OutcomeHandler = @Sendable (_ key: RealServerKey, _ generation: Int, _ outcome: CheckOutcome) -> Bool

    private enum Command {
        case add(CheckTarget, generation: Int, firstCheckIn: Duration)
        case remove(RealServerKey)
        case stop
    }

    private struct Slot {
        var key: RealServerKey
        var generation: Int
        var endpoint: ConnectSyscalls.Endpoint
        /// For a `via_vip` check: `endpoint` is the VIP's, and the probe
        /// goes through the real server's path.
        var viaVIP: VIPRoute?
        var interval: UInt64
        var timeout: UInt64
        var timeoutDuration: Duration
        var retryDelay: UInt64
        /// This target's queues in `timeouts`, `cycles` and `retries`.
        var timeoutQueue: Int
        var cycleQueue: Int
        var retryQueue: Int
        var retries: Int
        var attempt = 1
        var descriptor: Int32 = -1
        var cycleStarted: UInt64 = 0
        var attemptStarted: UInt64 = 0
        /// A check is running (an attempt in flight or a retry waiting).
        var inCycle = false
        /// The next check came due while this one ran: it starts when this ends.
        var startWhenDone = false
        /// Changes whenever an attempt moves on; a retry, timeout or epoll
        /// event that carries an older token is stale and ignored.
        var token: UInt32 = 0
        /// The same for the start of the next check.
        var cycleToken: UInt32 = 0
        /// False once released; its index is then in `freeSlots`.
        var live = true
    }

    /// Deadlines that only move forward, one first-in first-out queue per
    /// distinct duration: each queue is then in deadline order without a
    /// heap. A check's next start is its due start plus its interval, a
    /// retry its attempt's end plus the retry delay, a timeout its connect's
    /// start plus the timeout; starts are taken in due order and ends in
    /// clock order.
    private struct Queues {
        var queues: [Deque<Timer>] = []
        var indexOfDuration: [UInt64: Int] = [:]

        /// The queue for `nanoseconds` (one per distinct value a config
        /// has held: a handful).
        mutating func queue(for nanoseconds: UInt64) -> Int {
            if let index = indexOfDuration[nanoseconds] { return index }
            queues.append(Deque())
            indexOfDuration[nanoseconds] = queues.count - 1
            return queues.count - 1
        }

        var earliest: UInt64? {
            var next: UInt64?
            for queue in queues { if let first = queue.first?.deadline, first < next ?? .max { next = first } }
            return next
        }

        /// Removes and returns the earliest entry due by `now`.
        mutating func popDue(_ now: UInt64) -> Timer? {
            var best = -1
            for index in queues.indices {
                guard let first = queues[index].first, first.deadline <= now else { continue }
                if best < 0 || first.deadline < queues[best].first!.deadline { best = index }
            }
            return best < 0 ? nil : queues[best].removeFirst()
        }
    }

    /// A `via_vip` probe's path: the real server it must reach, the mark
    /// that takes it there (nil: none was free) and the VIP for the reason.
    private struct VIPRoute {
        var realServer: ConnectSyscalls.Endpoint
        var mark: UInt32?
        var vip: String
    }

    private struct Timer: Comparable {
        var deadline: UInt64
        var slot: Int32
        var token: UInt32

        static func < (lhs: Timer, rhs: Timer) -> Bool { lhs.deadline < rhs.deadline }
        static func == (lhs: Timer, rhs: Timer) -> Bool { lhs.deadline == rhs.deadline }
    }

    private static let wakeToken = UInt64.max

    private let commands = NIOLockedValueBox<(queued: [Command], stopped: Bool)>(([], false))
    private let epoll: Int32
    private let wake: Int32
    private let thread = NIOThreadPool(numberOfThreads: 1)

    init(onOutcome: @escaping OutcomeHandler) throws(CheckFailure) {
        (epoll, wake) = try ConnectSyscalls.makePoller(wakeToken: Self.wakeToken)
        thread.start()
        thread.submit { [epoll, wake, commands] _ in
            var loop = Loop(epoll: epoll, wake: wake, commands: commands, onOutcome: onOutcome)
            loop.run()
        }
    }

    /// Starts (or restarts) checks of `target`, the first after `firstCheckIn`.
    func add(_ target: CheckTarget, generation: Int, firstCheckIn: Duration) {
        send(.add(target, generation: generation, firstCheckIn: firstCheckIn))
    }

    func remove(_ key: RealServerKey) { send(.remove(key)) }

    /// Ends every check, closes every socket and the thread. Later calls
    /// (and commands sent after it) do nothing: the descriptors are gone.
    func shutdown() async {
        guard send(.stop) else { return }
        try? await thread.shutdownGracefully()
        ConnectSyscalls.closeDescriptor(wake)
        ConnectSyscalls.closeDescriptor(epoll)
    }

    /// Queues `command` and wakes the thread; false once stopped.
    @discardableResult
    private func send(_ command: Command) -> Bool {
        commands.withLockedValue { state in
            guard !state.stopped else { return false }
            state.queued.append(command)
            if case .stop = command { state.stopped = true }
            // Under the lock, so the eventfd cannot be closed in between.
            ConnectSyscalls.signal(wake)
            return true
        }
    }

    // MARK: The loop

    /// Checks started per turn of the loop before completions are read
    /// again: a check's measured latency includes the time its completion
    /// waits in epoll's ready list, so starts must not crowd reads out.
    private static let startsPerTurn = 16
    private static let eventBatch = 1024

    /// The reactor thread's state and its loop, a value the thread owns:
    /// its fields are then checked for exclusive access when compiled, not
    /// at each access as a class's stored properties are (that runtime
    /// check was about 5 % of the reactor's user time at 10,000 checks a
    /// second).
    private struct Loop {
        /// Not optional: a field of an element is then read and written in
        /// place, where an optional element was copied out whole (the copy
        /// routine was the largest user-space symbol). A free slot has `live`
        /// false and sits in `freeSlots`.
        var slots: [Slot] = []
        var freeSlots: [Int] = []
        var slotOfKey: [RealServerKey: Int] = [:]
        /// First checks (at their phase) and checks that came due while the
        /// previous one ran: the only deadlines in no order.
        var timers = Heap<Timer>()
        /// Pending connects' timeouts, next checks and retries. In one heap,
        /// sifting 10,000 targets' deadlines (and, for timeouts, the stale
        /// entries every finished check left) was the largest user-space cost
        /// at 10,000 checks a second (docs/benchmarks.md).
        var timeouts = Queues()
        var cycles = Queues()
        var retryQueues = Queues()
        var nextToken: UInt32 = 0
        var stopping = false

        let epoll: Int32
        let wake: Int32
        let commands: NIOLockedValueBox<(queued: [Command], stopped: Bool)>
        let onOutcome: OutcomeHandler

        /// One clock read per turn, just after epoll returns, times the turn's
        /// completions, due timers and the next wait (a start reads its own:
        /// it is the other end of the latency). Where the clock is not served
        /// by the vDSO (an HPET clocksource, as in the kernel tier's VM) each
        /// read is a system call.
        mutating func run() {
            var events = ConnectSyscalls.makeEventBuffer(capacity: TCPCheckReactor.eventBatch)
            var now = ConnectSyscalls.monotonicNanoseconds()
            while !stopping {
                var wait: Int32 = -1
                if let next = nextDeadline() {
                    // Rounded up: waking a millisecond early would spin.
                    wait = next <= now ? 0 : Int32(clamping: (next - now + 999_999) / 1_000_000)
                }
                // Every completion that is ready is read before more checks start.
                var count = TCPCheckReactor.eventBatch
                while count == TCPCheckReactor.eventBatch {
                    count = ConnectSyscalls.wait(epoll, buffer: &events, timeoutMilliseconds: wait)
                    now = ConnectSyscalls.monotonicNanoseconds()
                    for index in 0..<count { ready(events[index].data.u64, events: events[index].events, now: now) }
                    wait = 0
                }
                // The last start's clock read, so the next wait is not long by
                // the time the starts took.
                now = fireDueTimers(limit: TCPCheckReactor.startsPerTurn, now: now)
            }
            for index in slots.indices { release(index) }
        }

        mutating func ready(_ token: UInt64, events: UInt32, now: UInt64) {
            if token == TCPCheckReactor.wakeToken {
                ConnectSyscalls.drain(wake)
                runCommands(now: now)
            } else {
                connectCompleted(slot: Int(token & 0xffff_ffff), token: UInt32(token >> 32), events: events, now: now)
            }
        }

        mutating func runCommands(now: UInt64) {
            let pending = commands.withLockedValue { state in
                defer { state.queued.removeAll(keepingCapacity: true) }
                return state.queued
            }
            for command in pending {
                switch command {
                case .add(let target, let generation, let firstCheckIn):
                    if let existing = slotOfKey[target.key] { release(existing) }
                    let check = target.check
                    let timeout = TCPCheckReactor.nanoseconds(check.timeout)
                    let interval = TCPCheckReactor.nanoseconds(check.interval)
                    let retryDelay = TCPCheckReactor.nanoseconds(check.retryDelay)
                    let slot = Slot(
                        key: target.key, generation: generation,
                        endpoint: ConnectSyscalls.Endpoint(
                            target.viaVIP.map { .v4($0.vip) } ?? target.address, port: target.port),
                        viaVIP: target.viaVIP.map {
                            VIPRoute(
                                realServer: ConnectSyscalls.Endpoint(target.address, port: target.port),
                                mark: $0.mark, vip: "\($0.vip):\(target.port)")
                        },
                        interval: interval, timeout: timeout, timeoutDuration: check.timeout, retryDelay: retryDelay,
                        timeoutQueue: timeouts.queue(for: timeout), cycleQueue: cycles.queue(for: interval),
                        retryQueue: retryQueues.queue(for: retryDelay), retries: max(1, check.retries))
                    let index: Int
                    if let free = freeSlots.popLast() {
                        slots[free] = slot
                        index = free
                    } else {
                        slots.append(slot)
                        index = slots.count - 1
                    }
                    slotOfKey[target.key] = index
                    armCycle(index, at: now + TCPCheckReactor.nanoseconds(firstCheckIn))
                case .remove(let key):
                    if let index = slotOfKey[key] { release(index) }
                case .stop:
                    stopping = true
                }
            }
        }

        /// The earliest start, retry or timeout; nil when nothing is scheduled.
        func nextDeadline() -> UInt64? {
            TCPCheckReactor.earlier(
                TCPCheckReactor.earlier(timers.min?.deadline, timeouts.earliest),
                TCPCheckReactor.earlier(cycles.earliest, retryQueues.earliest))
        }

        /// Ends connects whose timeout passed, then fires start timers that are
        /// due, starting at most `limit` checks (stale entries do not count);
        /// the rest wait for the next turn, which then does not sleep.
        mutating func fireDueTimers(limit: Int, now: UInt64) -> UInt64 {
            // A timeout only arms starts (a retry or the next check), never a
            // timeout, so the timeout queues change under this loop only by it.
            while let next = timeouts.popDue(now) {
                let index = Int(next.slot)
                guard index < slots.count, slots[index].live, slots[index].token == next.token,
                    slots[index].descriptor >= 0
                else { continue }
                ConnectSyscalls.closeDescriptor(slots[index].descriptor)
                slots[index].descriptor = -1
                finish(index, failure: .connectTimeout(slots[index].timeoutDuration), now: now)
            }
            var started = 0
            var latest = now
            while started < limit {
                // The earliest due start of the three kinds: a retry, a next
                // check from its interval's queue, or a first or late check.
                let retry = retryQueues.earliest ?? .max
                let cycle = cycles.earliest ?? .max
                let other = timers.min?.deadline ?? .max
                let first = min(retry, cycle, other)
                guard first <= now else { break }
                let next: Timer
                let isRetry = first == retry
                if isRetry {
                    next = retryQueues.popDue(now)!
                } else if first == cycle {
                    next = cycles.popDue(now)!
                } else {
                    next = timers.removeMin()
                }
                let index = Int(next.slot)
                guard index < slots.count, slots[index].live,
                    isRetry ? slots[index].token == next.token : slots[index].cycleToken == next.token
                else { continue }
                if !isRetry, slots[index].inCycle {
                    // No overlap: the check still running starts the next when it ends.
                    slots[index].startWhenDone = true
                    continue
                }
                latest = startAttempt(index, due: next.deadline)
                started += 1
            }
            return latest
        }

        // MARK: One check

        /// Starts an attempt that was due at `due`; returns the clock read it
        /// started at.
        mutating func startAttempt(_ index: Int, due: UInt64) -> UInt64 {
            let now = ConnectSyscalls.monotonicNanoseconds()
            if slots[index].attempt == 1 {
                slots[index].cycleStarted = now
                slots[index].inCycle = true
                scheduleNextCycle(index, due: due, started: now)
            }
            slots[index].attemptStarted = now
            let start: ConnectSyscalls.ConnectStart
            if let route = slots[index].viaVIP {
                guard let mark = route.mark else {
                    finish(
                        index, failure: .network("no firewall mark free for this VIP path (the mark range is full)"),
                        now: now)
                    return now
                }
                start = ConnectSyscalls.startConnect(
                    to: slots[index].endpoint, mark: mark, realServer: route.realServer)
            } else {
                start = ConnectSyscalls.startConnect(to: slots[index].endpoint)
            }
            switch start {
            case .connected:
                finish(index, failure: nil, now: ConnectSyscalls.monotonicNanoseconds())
            case .failed(let failure):
                finish(
                    index, failure: ProbeError.failure(errno: failure, connected: false, received: 0),
                    now: ConnectSyscalls.monotonicNanoseconds())
            case .pending(let descriptor):
                let token = renewToken(index)
                let registered = ConnectSyscalls.watch(
                    descriptor, token: UInt64(token) << 32 | UInt64(index),
                    events: ConnectSyscalls.writable, on: epoll)
                guard registered == 0 else {
                    ConnectSyscalls.closeDescriptor(descriptor)
                    finish(
                        index, failure: ProbeError.failure(errno: registered, connected: false, received: 0), now: now)
                    return now
                }
                slots[index].descriptor = descriptor
                timeouts.queues[slots[index].timeoutQueue].append(
                    Timer(deadline: now + slots[index].timeout, slot: Int32(index), token: token))
            }
            return now
        }

        mutating func connectCompleted(slot index: Int, token: UInt32, events: UInt32, now: UInt64) {
            guard index < slots.count, slots[index].live, slots[index].token == token, slots[index].descriptor >= 0
            else { return }
            let result = ConnectSyscalls.finishConnect(slots[index].descriptor, events: events)
            slots[index].descriptor = -1
            finish(
                index, failure: result == 0 ? nil : ProbeError.failure(errno: result, connected: false, received: 0),
                now: now)
        }

        /// An attempt ended at `now`: retry, or report and schedule the next check.
        mutating func finish(_ index: Int, failure: CheckFailure?, now: UInt64) {
            if failure != nil, slots[index].attempt < slots[index].retries {
                slots[index].attempt += 1
                let token = renewToken(index)
                retryQueues.queues[slots[index].retryQueue].append(
                    Timer(deadline: now + slots[index].retryDelay, slot: Int32(index), token: token))
                return
            }
            let latency = Duration.nanoseconds(Int64(now - slots[index].attemptStarted))
            var failure = failure
            if let reason = failure, let route = slots[index].viaVIP { failure = .viaVIP(reason, vip: route.vip) }
            let outcome = failure.map { CheckOutcome.failure($0, latency: latency) } ?? .success(latency: latency)
            guard onOutcome(slots[index].key, slots[index].generation, outcome) else {
                release(index)
                return
            }
            slots[index].attempt = 1
            slots[index].inCycle = false
            if slots[index].startWhenDone {
                // It ran past its next start: the next starts now.
                slots[index].startWhenDone = false
                armCycle(index, at: now)
            }
        }

        /// The next check's start, fixed-rate (`FixedRate`): one interval after
        /// this one was due. In step, it goes to its interval's queue, which
        /// stays in deadline order because starts are taken in order of their
        /// due times (a due time read from an earlier clock read than the
        /// last one appended is held to it, a skew of at most one loop pass);
        /// a checker a whole interval behind puts it in the heap, at the
        /// check's own phase after now.
        mutating func scheduleNextCycle(_ index: Int, due: UInt64, started: UInt64) {
            let next = FixedRate.next(due: due, started: started, interval: slots[index].interval)
            let token = renewCycleToken(index)
            guard next.inStep else {
                timers.insert(Timer(deadline: next.start, slot: Int32(index), token: token))
                return
            }
            let queue = slots[index].cycleQueue
            let inOrder = max(next.start, cycles.queues[queue].last?.deadline ?? 0)
            cycles.queues[queue].append(Timer(deadline: inOrder, slot: Int32(index), token: token))
        }

        /// Schedules a check's start outside its interval's queue: the first, or
        /// one that came due while the previous check ran.
        mutating func armCycle(_ index: Int, at deadline: UInt64) {
            timers.insert(Timer(deadline: deadline, slot: Int32(index), token: renewCycleToken(index)))
        }

        mutating func renewToken(_ index: Int) -> UInt32 {
            nextToken &+= 1
            slots[index].token = nextToken
            return nextToken
        }

        mutating func renewCycleToken(_ index: Int) -> UInt32 {
            nextToken &+= 1
            slots[index].cycleToken = nextToken
            return nextToken
        }

        mutating func release(_ index: Int) {
            guard slots[index].live else { return }
            if slots[index].descriptor >= 0 { ConnectSyscalls.closeDescriptor(slots[index].descriptor) }
            slots[index].descriptor = -1
            slots[index].live = false
            freeSlots.append(index)
            let key = slots[index].key
            if slotOfKey[key] == index { slotOfKey[key] = nil }
        }
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 { UInt64(max(0, duration.nanoseconds)) }

    private static func earlier(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }
}
