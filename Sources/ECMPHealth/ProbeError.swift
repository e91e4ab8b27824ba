import ECMPCore
import NIOCore
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// Socket and TLS errors as check failures an operator can read.
enum ProbeError {
    static func failure(_ error: any Error, timeout: Duration, connected: Bool, received: Int) -> CheckFailure {
        if let failure = error as? CheckFailure { return failure }
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout: return .connectTimeout(timeout)
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed:
                return connected ? .truncatedResponse(received: received) : .network("connection closed")
            default: return .network("\(channelError)")
            }
        }
        if let ioError = error as? IOError {
            return failure(errno: ioError.errnoCode, connected: connected, received: received)
        }
        if let sslError = error as? NIOSSLError { return .tls("\(sslError)") }
        if let unclean = error as? NIOSSLCloseTimedOutError { return .tls("\(unclean)") }
        return .network("\(error)")
    }

    /// A socket call's errno as a check failure.
    static func failure(errno code: Int32, connected: Bool, received: Int) -> CheckFailure {
        switch code {
        case ECONNREFUSED: return .connectionRefused
        case ECONNRESET:
            return connected ? .network("connection reset after \(received) bytes") : .network("connection reset")
        case EHOSTUNREACH: return .network("host unreachable")
        case ENETUNREACH: return .network("network unreachable")
        default: return .network(String(cString: strerror(code)))
        }
    }
}
