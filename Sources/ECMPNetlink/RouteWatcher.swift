import ECMPCore

/// Wakes its owner whenever the kernel reports a change that can alter a
/// route's nexthops: an IPv4 route (and an IPv6 one when asked), a nexthop
/// object or a link. It says
/// only that something changed; the owner re-reads the route it watches
/// (`RouteReader`), so a missed or coalesced event is repaired by the
/// next read. Create it before the first read, so no change falls between.
///
/// `@unchecked Sendable`: only `interrupt()` is meant for other threads,
/// and it writes one byte to a pipe, which the kernel serialises.
public final class RouteWatcher: @unchecked Sendable {
    public enum Wake: Sendable {
        /// The kernel reported at least one change.
        case changed
        /// The kernel dropped events (the socket's receive buffer was full:
        /// ENOBUFS): something changed, but what is unknown, and a change
        /// may be among the lost. Re-read everything.
        case overflowed
        case timedOut
        /// `interrupt()` was called (by a signal handler, say).
        case interrupted
    }

    private let socket: RouteEventSocket

    /// With `includingAddresses`, IPv4 and IPv6 address changes wake it too (the
    /// daemon's network watch: an interface's networks feed the routing
    /// configs).
    /// With `includingIPv6Routes`, IPv6 route changes too (watching an IPv6 VIP).
    public init(includingAddresses: Bool = false, includingIPv6Routes: Bool = false) throws(NetlinkError) {
        do {
            socket = try RouteEventSocket(addresses: includingAddresses, ipv6Routes: includingIPv6Routes)
        } catch {
            let groups = "route, nexthop, link\(includingAddresses ? ", address" : "")"
            throw NetlinkError(operation: "subscribe to", object: "rtnetlink \(groups) events", error)
        }
    }

    /// Waits until the kernel reports a change, `timeout` passes or
    /// `interrupt()` is called, whichever comes first.
    public func wait(timeout: Duration) throws(NetlinkError) -> Wake {
        let milliseconds = max(0, min(Int64(Int32.max), timeout.milliseconds))
        do {
            switch try socket.wait(timeoutMilliseconds: Int32(milliseconds)) {
            case .events: return .changed
            case .overflowed: return .overflowed
            case .timedOut: return .timedOut
            case .interrupted: return .interrupted
            }
        } catch {
            throw NetlinkError(operation: "read", object: "rtnetlink events", error)
        }
    }

    /// Makes the current or next `wait` return `.interrupted`; from any thread.
    public func interrupt() { socket.interrupt() }
}
