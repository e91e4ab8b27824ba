import Foundation
import Glibc

/// A thread that lives in one network namespace (`setns` changes only the
/// calling thread's), running closures on it one at a time. Sockets opened
/// there belong to that namespace, so a test can hold a netlink socket in
/// the router's namespace and another in a director's, and time what
/// happens between them without spawning a process per look.
public final class NamespaceWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var job: (() -> Void)?
    private var stopping = false
    private var thread: Thread?

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `namespace` is a name under /var/run/netns (`ip netns add`).
    public init(namespace: String) throws {
        let descriptor = open("/var/run/netns/\(namespace)", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Failure(description: "open /var/run/netns/\(namespace): \(String(cString: strerror(errno)))")
        }
        let entered = NSCondition()
        let result = Box()
        let thread = Thread { [self] in
            let status = NamespaceWorker.setns(descriptor, NamespaceWorker.cloneNewNet) == 0 ? 0 : errno
            close(descriptor)
            entered.lock(); result.value = status; entered.signal(); entered.unlock()
            guard status == 0 else { return }
            self.loop()
        }
        thread.start()
        entered.lock()
        while result.value == nil { entered.wait() }
        entered.unlock()
        guard let status = result.value, status == 0 else {
            throw Failure(description: "setns into \(namespace): \(String(cString: strerror(result.value ?? EINVAL)))")
        }
        self.thread = thread
    }

    /// glibc declares setns(2) only under _GNU_SOURCE, which Swift's Glibc
    /// module does not define; the symbol itself is always there.
    private static let cloneNewNet: Int32 = 0x4000_0000
    private static let setns: @convention(c) (Int32, Int32) -> Int32 = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "setns") else {
            fatalError("glibc without setns")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    private func loop() {
        while true {
            condition.lock()
            while job == nil && !stopping { condition.wait() }
            if stopping && job == nil { condition.unlock(); return }
            let work = job!
            condition.unlock()
            work()
            condition.lock()
            job = nil
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Runs `body` on the namespace's thread and returns its result.
    public func sync<T>(_ body: @escaping () throws -> T) throws -> T {
        var outcome: Result<T, Error>?
        condition.lock()
        while job != nil { condition.wait() }
        job = { outcome = Result { try body() } }
        condition.broadcast()
        while job != nil || outcome == nil { condition.wait() }
        condition.unlock()
        return try outcome!.get()
    }

    /// Ends the thread after the current job.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    deinit { stop() }
}

private final class Box: @unchecked Sendable {
    var value: Int32?
}
