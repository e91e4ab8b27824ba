/// What one health check of a real server found: success, or a failure with
/// a reason an operator can act on. Latency is from the start of the attempt
/// that decided (after retries, the last one).
public struct CheckOutcome: Sendable, Equatable {
    public var failure: CheckFailure?
    public var latency: Duration

    public static func success(latency: Duration) -> CheckOutcome { CheckOutcome(failure: nil, latency: latency) }
    public static func failure(_ failure: CheckFailure, latency: Duration) -> CheckOutcome {
        CheckOutcome(failure: failure, latency: latency)
    }

    public var succeeded: Bool { failure == nil }
}

/// Why a check failed. The description is what `ecmpd status` shows as the
/// real server's last error.
public enum CheckFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered the SYN with a reset: nothing listens on the port.
    case connectionRefused
    /// No answer to the connect within the timeout (host down, filtered).
    case connectTimeout(Duration)
    /// Connected, but the response did not complete within the timeout.
    case responseTimeout(Duration, received: Int)
    /// A socket error other than a refusal, with its text.
    case network(String)
    /// The HTTP status is not one of the expected codes.
    case unexpectedStatus(Int, expected: [Int])
    /// The body's MD5 differs from the configured digest.
    case digestMismatch(got: String, expected: String)
    /// The response is not valid HTTP/1.x.
    case malformedResponse(String)
    /// The connection closed before the response was complete.
    case truncatedResponse(received: Int)
    /// The TLS handshake failed (certificate, protocol), with the library's text.
    case tls(String)
    /// An exec check exited non-zero (or was killed by a signal: 128 + n).
    case exitStatus(Int32, output: String)
    /// An exec check ran past its timeout and was killed.
    case execTimeout(Duration)
    /// An exec check could not be started.
    case execFailed(String)
    /// An ICMP error answered a UDP, DNS or ICMP probe (port or host
    /// unreachable), with its text: reported at once, not at the timeout.
    case unreachable(String)
    /// A UDP, DNS or ICMP probe got no reply within the timeout.
    case noReply(Duration)
    /// A UDP reply that is not the one expected (bytes, length).
    case unexpectedReply(String)
    /// A DNS reply that is malformed, or has another rcode or no answer.
    case dns(String)
    /// A `via_vip` probe to `vip` (address:port) failed this way.
    indirect case viaVIP(CheckFailure, vip: String)

    public var description: String {
        switch self {
        case .connectionRefused: return "connection refused"
        case .connectTimeout(let limit): return "connect timed out after \(DurationParser.format(limit))"
        case .responseTimeout(let limit, let received):
            return received == 0
                ? "no response within \(DurationParser.format(limit))"
                : "response incomplete after \(DurationParser.format(limit)) (\(received) bytes received)"
        case .network(let text): return text
        case .unexpectedStatus(let status, let expected):
            return "HTTP status \(status), expected \(expected.map(String.init).joined(separator: ","))"
        case .digestMismatch(let got, let expected): return "body digest \(got), expected \(expected)"
        case .malformedResponse(let text): return "malformed HTTP response: \(text)"
        case .truncatedResponse(let received): return "connection closed mid-response (\(received) bytes received)"
        case .tls(let text): return "TLS: \(text)"
        case .exitStatus(let status, let output):
            let firstLine =
                output.split(separator: "\n", omittingEmptySubsequences: true).first.map { ": \($0.prefix(200))" } ?? ""
            return status > 128 ? "killed by signal \(status - 128)\(firstLine)" : "exit status \(status)\(firstLine)"
        case .execTimeout(let limit): return "still running after \(DurationParser.format(limit)); killed"
        case .execFailed(let text): return text
        case .unreachable(let text): return text
        case .noReply(let limit): return "no reply within \(DurationParser.format(limit))"
        case .unexpectedReply(let text): return text
        case .dns(let text): return text
        case .viaVIP(let failure, let vip):
            let hint: String
            switch failure {
            case .connectTimeout, .responseTimeout:
                hint =
                    " — the real server may lack the VIP on lo (or this director drops its answers from the VIP: "
                    + "accept_local)"
            case .connectionRefused:
                hint = " — nothing listens on the VIP there (a service bound to the real server's own address only?)"
            default: hint = ""
            }
            return "via VIP path \(vip): \(failure)\(hint)"
        }
    }

    /// A short stable label for metrics (`reason` label): never the free text.
    public var label: String {
        switch self {
        case .connectionRefused: return "refused"
        case .connectTimeout: return "connect_timeout"
        case .responseTimeout: return "timeout"
        case .network: return "network"
        case .unexpectedStatus: return "status"
        case .digestMismatch: return "digest"
        case .malformedResponse: return "malformed"
        case .truncatedResponse: return "truncated"
        case .tls: return "tls"
        case .exitStatus: return "exit_status"
        case .execTimeout: return "exec_timeout"
        case .execFailed: return "exec_failed"
        case .unreachable: return "unreachable"
        case .noReply: return "no_reply"
        case .unexpectedReply: return "reply"
        case .dns: return "dns"
        case .viaVIP(let failure, _): return "via_vip_" + failure.label
        }
    }
}
