import CGlibcExtras
import ECMPCore
import ECMPRouting
import NIOCore
import NIOPosix

/// Runs a check program from its argv (never a shell) on a small fixed
/// pool of threads, so exec checks cannot starve the socket checks'
/// event loop; a program past the timeout is killed with its process
/// group. Output is kept only to show its first line, at most 4 KiB.
///
/// The program learns which real server it checks from its environment
/// (`environment(for:)`): ECMPD_REAL_SERVER (the address, without brackets),
/// ECMPD_REAL_SERVER_PORT and ECMPD_FAMILY (`inet` or `inet6`, as `ip`
/// words the families), beside ecmpd's own environment.
///
/// A check program gets none of ecmpd's capabilities: the pool thread that
/// spawns it first empties its own inheritable and ambient sets, so the
/// CAP_NET_ADMIN the unit grants ecmpd (an ambient capability, which a
/// plain `execve` would pass on) stays with ecmpd. Capabilities are per
/// thread and the child is cloned from the calling thread, so ecmpd's other
/// children (routing reloads, on other threads) are not affected.
enum ExecProbe {
    static let outputLimit = 4096

    /// What a check program is told about its target.
    static func environment(for target: CheckTarget) -> [String: String] {
        [
            "ECMPD_REAL_SERVER": target.address.description,
            "ECMPD_REAL_SERVER_PORT": String(target.port),
            "ECMPD_FAMILY": target.address.ipv4 == nil ? "inet6" : "inet",
        ]
    }

    static func run(_ target: CheckTarget, argv: [String], pool: NIOThreadPool, on loop: any EventLoop)
        -> EventLoopFuture<CheckOutcome>
    {
        let timeout = target.check.timeout
        let started = ContinuousClock.now
        return pool.runIfActive(eventLoop: loop) { () -> CheckOutcome in
            do {
                guard ecmpd_clear_inherited_capabilities() == 0 else {
                    return .failure(
                        .execFailed(
                            "cannot drop inherited capabilities before running \(argv[0]): \(String(cString: strerror(errno)))"
                        ),
                        latency: ContinuousClock.now - started)
                }
                let result = try ProcessRunner.run(
                    argv, timeout: timeout, outputLimit: outputLimit, environment: environment(for: target))
                let latency = ContinuousClock.now - started
                if result.timedOut { return .failure(.execTimeout(timeout), latency: latency) }
                if result.status != 0 {
                    return .failure(.exitStatus(result.status, output: result.output), latency: latency)
                }
                return .success(latency: latency)
            } catch {
                return .failure(.execFailed("\(error)"), latency: ContinuousClock.now - started)
            }
        }.recover { error in .failure(.execFailed("\(error)"), latency: ContinuousClock.now - started) }
    }
}
