import Dispatch

/// Runs blocking work (processes, file syncs) on a serial queue of its own
/// so it never occupies one of the few cooperative threads the reconcile
/// loop runs on.
struct BlockingQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
