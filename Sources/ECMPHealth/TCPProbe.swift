import ECMPCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connect, then a close with SO_LINGER 0 (a reset, as HAProxy's
/// checks do): nothing is left in TIME_WAIT on the director, which at
/// thousands of checks a second would otherwise pile up.
enum TCPProbe {
    static func run(_ target: CheckTarget, on loop: any EventLoop) -> EventLoopFuture<CheckOutcome> {
        let started = ContinuousClock.now
        let timeout = target.check.timeout
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: target.address.description, port: target.port)
        } catch {
            return loop.makeSucceededFuture(.failure(.network("bad address \(target.address):\(target.port)"), latency: .zero))
        }
        return ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(timeout.nanoseconds))
            .connect(to: address)
            .flatMap { channel -> EventLoopFuture<Void> in
                let linger = (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                    ?? loop.makeSucceededVoidFuture()
                return linger.flatMap { channel.close() }.recover { _ in }
            }
            .map { CheckOutcome.success(latency: ContinuousClock.now - started) }
            .recover { error in
                .failure(ProbeError.failure(error, timeout: timeout, connected: false, received: 0), latency: ContinuousClock.now - started)
            }
    }
}
