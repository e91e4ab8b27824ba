import ECMPCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// UDP, DNS and ICMP checks. Each attempt runs on a small fixed pool of its
/// own (so a probe waiting for its timeout delays neither the TCP reactor,
/// nor HTTP, nor exec checks) on one connected, non-blocking socket whose
/// receive is bounded by the attempt's deadline.
///
/// - A connected UDP socket takes replies only from the real server's
///   address and port; the kernel drops datagrams from anywhere else. An
///   ICMP port or host unreachable about it comes back as the socket's
///   error (ECONNREFUSED, EHOSTUNREACH) at the next receive: the attempt
///   fails when the ICMP error arrives, not at the timeout.
/// - DNS: a replied ID that is not the query's, or a message without QR,
///   is ignored (a late reply to an earlier attempt, a stray query) and the
///   wait goes on; any other malformed reply fails at once with its reason.
///   A reply with TC set is asked again over TCP within the same deadline.
/// - ICMP: a ping socket (SOCK_DGRAM, IPPROTO_ICMP), which the kernel grants
///   to a process whose group is in net.ipv4.ping_group_range; failing that
///   a raw socket, which needs CAP_NET_RAW; failing both, a failure that
///   says which sysctl to set.
///
/// The pool's size bounds how many of these attempts wait at once: with
/// `threads` threads and a timeout T, at most threads / T attempts a second
/// can be silent (a healthy one returns in a round trip).
enum DatagramProbe {
    static func run(_ target: CheckTarget, pool: NIOThreadPool, on loop: any EventLoop)
        -> EventLoopFuture<CheckOutcome>
    {
        let started = ContinuousClock.now
        return pool.runIfActive(eventLoop: loop) { () -> CheckOutcome in
            let failure = probe(target)
            let latency = ContinuousClock.now - started
            return failure.map { .failure($0, latency: latency) } ?? .success(latency: latency)
        }.recover { error in .failure(.network("\(error)"), latency: ContinuousClock.now - started) }
    }

    /// One attempt, blocking the calling thread until its deadline at most;
    /// nil when it passed.
    static func probe(_ target: CheckTarget) -> CheckFailure? {
        let timeout = target.check.timeout
        let deadline = ConnectSyscalls.monotonicNanoseconds() + UInt64(max(0, timeout.nanoseconds))
        let endpoint = ConnectSyscalls.Endpoint(target.address, port: target.port)
        switch target.check.kind {
        case .udp(let udp): return self.udp(endpoint, udp, timeout: timeout, deadline: deadline)
        case .dns(let dns): return self.dns(endpoint, dns, timeout: timeout, deadline: deadline)
        case .icmp: return icmp(endpoint, ipv6: target.address.ipv4 == nil, timeout: timeout, deadline: deadline)
        default: preconditionFailure("DatagramProbe runs udp, dns and icmp checks only")
        }
    }

    // MARK: UDP

    /// Enough for any DNS reply over UDP and any reply pattern; a longer
    /// datagram's length is still known (MSG_TRUNC).
    static let receiveCapacity = DNSMessage.largestUDPReply + 1

    static func udp(_ endpoint: ConnectSyscalls.Endpoint, _ check: UDPCheck, timeout: Duration, deadline: UInt64)
        -> CheckFailure?
    {
        let descriptor: Int32
        switch connected(endpoint, type: DatagramSyscalls.datagram, proto: 0) {
        case .success(let opened): descriptor = opened
        case .failure(let failure): return failure
        }
        defer { DatagramSyscalls.close(descriptor) }
        if let failure = sendFailure(DatagramSyscalls.send(descriptor, check.payload, deadline: deadline)) {
            return failure
        }
        switch DatagramSyscalls.receive(descriptor, capacity: receiveCapacity, deadline: deadline) {
        case .data(let bytes, let length):
            return UDPReplyCheck.problem(bytes, length: length, check: check).map { .unexpectedReply($0) }
        case .failed(let code):
            return unreachable(code)
        case .timedOut, .closed:
            // keepalived's UDP_CHECK without require_reply: silence is health.
            return check.requireReply ? .noReply(timeout) : nil
        }
    }

    // MARK: DNS

    static func dns(_ endpoint: ConnectSyscalls.Endpoint, _ check: DNSCheck, timeout: Duration, deadline: UInt64)
        -> CheckFailure?
    {
        let question: DNSQuestion
        do throws(DNSNameError) {
            question = try DNSQuestion(name: check.name, type: check.type)
        } catch {
            return .dns("query name \(check.name): \(error)")
        }
        let id = DatagramSyscalls.randomID()
        let query = DNSMessage.query(id: id, question: question)
        let descriptor: Int32
        switch connected(endpoint, type: DatagramSyscalls.datagram, proto: 0) {
        case .success(let opened): descriptor = opened
        case .failure(let failure): return failure
        }
        defer { DatagramSyscalls.close(descriptor) }
        if let failure = sendFailure(DatagramSyscalls.send(descriptor, query, deadline: deadline)) { return failure }
        var ignored: [DNSReplyError] = []
        while true {
            switch DatagramSyscalls.receive(descriptor, capacity: receiveCapacity, deadline: deadline) {
            case .data(let bytes, let length):
                guard length <= DNSMessage.largestUDPReply else {
                    return .dns(DNSReplyError.oversized(length, limit: DNSMessage.largestUDPReply).description)
                }
                do throws(DNSReplyError) {
                    let reply = try DNSMessage.parseReply(
                        bytes, id: id, question: question, limit: DNSMessage.largestUDPReply)
                    if reply.truncated {
                        return dnsOverTCP(endpoint, check, question: question, timeout: timeout, deadline: deadline)
                    }
                    return judge(reply, check, question)
                } catch  where error.isStray {
                    ignored.append(error)
                } catch {
                    return .dns(error.description)
                }
            case .failed(let code):
                return unreachable(code)
            case .timedOut, .closed:
                guard let last = ignored.last else { return .noReply(timeout) }
                return .dns(
                    "no DNS reply within \(DurationParser.format(timeout)); ignored \(ignored.count) (last: \(last))")
            }
        }
    }

    /// The same question over TCP (RFC 7766), each message behind its
    /// two-byte length, within what is left of the deadline.
    static func dnsOverTCP(
        _ endpoint: ConnectSyscalls.Endpoint, _ check: DNSCheck, question: DNSQuestion, timeout: Duration,
        deadline: UInt64
    ) -> CheckFailure? {
        let descriptor: Int32
        switch DatagramSyscalls.open(endpoint, type: DatagramSyscalls.stream, proto: 0) {
        case .success(let opened): descriptor = opened
        case .failure(let error): return ProbeError.failure(errno: error.code, connected: false, received: 0)
        }
        defer { DatagramSyscalls.close(descriptor) }
        var result = DatagramSyscalls.connect(descriptor, to: endpoint)
        if result == EINPROGRESS { result = DatagramSyscalls.finishConnect(descriptor, deadline: deadline) }
        if result == ETIMEDOUT {
            return .dns("reply truncated; TCP connect timed out after \(DurationParser.format(timeout))")
        }
        if result != 0 {
            return .dns("reply truncated; TCP: \(ProbeError.failure(errno: result, connected: false, received: 0))")
        }
        let id = DatagramSyscalls.randomID()
        let query = DNSMessage.query(id: id, question: question)
        var framed: [UInt8] = [UInt8(query.count >> 8), UInt8(query.count & 0xff)]
        framed += query
        if let failure = sendFailure(DatagramSyscalls.send(descriptor, framed, deadline: deadline)) { return failure }
        let length: Int
        switch DatagramSyscalls.receiveExactly(descriptor, count: 2, deadline: deadline) {
        case .data(let bytes, _): length = Int(bytes[0]) << 8 | Int(bytes[1])
        case .failed(let code): return .dns("reply truncated; TCP: \(String(cString: strerror(code)))")
        case .timedOut: return .dns("reply truncated; no TCP reply within \(DurationParser.format(timeout))")
        case .closed: return .dns("reply truncated; the server closed the TCP connection without a reply")
        }
        switch DatagramSyscalls.receiveExactly(descriptor, count: length, deadline: deadline) {
        case .data(let bytes, _):
            do throws(DNSReplyError) {
                let reply = try DNSMessage.parseReply(bytes, id: id, question: question, limit: Int(UInt16.max))
                return judge(reply, check, question)
            } catch {
                return .dns("over TCP: \(error)")
            }
        case .failed(let code): return .dns("reply truncated; TCP: \(String(cString: strerror(code)))")
        case .timedOut:
            return .dns("reply truncated; TCP reply incomplete after \(DurationParser.format(timeout))")
        case .closed: return .dns("reply truncated; the server closed the TCP connection mid-reply")
        }
    }

    static func judge(_ reply: DNSReply, _ check: DNSCheck, _ question: DNSQuestion) -> CheckFailure? {
        guard reply.rcode == check.rcode else { return .dns("DNS rcode \(reply.rcode), expected \(check.rcode)") }
        if check.requireAnswer, !reply.answers(question) {
            return .dns("DNS reply has no \(question.type) answer for \(DNSQuestion.presentation(question.labels))")
        }
        return nil
    }

    // MARK: ICMP

    static func icmp(_ endpoint: ConnectSyscalls.Endpoint, ipv6: Bool, timeout: Duration, deadline: UInt64)
        -> CheckFailure?
    {
        let proto = Int32(ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)
        var descriptor: Int32
        var ownIdentifier: UInt16?
        switch DatagramSyscalls.open(endpoint, type: DatagramSyscalls.datagram, proto: proto) {
        case .success(let opened):
            descriptor = opened
        case .failure(let pingError):
            // No ping socket for this group: a raw socket, with CAP_NET_RAW.
            switch DatagramSyscalls.open(endpoint, type: DatagramSyscalls.raw, proto: proto) {
            case .success(let opened):
                descriptor = opened
                ownIdentifier = DatagramSyscalls.randomID()
            case .failure:
                let (group, range) = DatagramSyscalls.pingGroupRange()
                return .network(
                    "no ICMP socket: a ping socket needs net.ipv4.ping_group_range to include group \(group) (it is \(range)): \(String(cString: strerror(pingError.code))); a raw socket needs CAP_NET_RAW"
                )
            }
        }
        defer { DatagramSyscalls.close(descriptor) }
        let connectResult = DatagramSyscalls.connect(descriptor, to: endpoint)
        if connectResult != 0 { return unreachable(connectResult) }
        let sequence = DatagramSyscalls.randomID()
        let request = ICMPEcho.request(identifier: ownIdentifier ?? 0, sequence: sequence, ipv6: ipv6)
        if let failure = sendFailure(DatagramSyscalls.send(descriptor, request, deadline: deadline)) { return failure }
        while true {
            switch DatagramSyscalls.receive(descriptor, capacity: 1500, deadline: deadline) {
            case .data(var bytes, _):
                // A raw IPv4 socket hands over the IP header too.
                if ownIdentifier != nil, !ipv6, let first = bytes.first {
                    bytes = Array(bytes.dropFirst(Int(first & 0x0f) * 4))
                }
                switch ICMPEcho.read(bytes, identifier: ownIdentifier, sequence: sequence, ipv6: ipv6) {
                case .reply: return nil
                case .other: continue
                case .error(let text): return .unreachable(text)
                }
            case .failed(let code): return unreachable(code)
            case .timedOut, .closed: return .noReply(timeout)
            }
        }
    }

    // MARK: Shared

    static func connected(_ endpoint: ConnectSyscalls.Endpoint, type: Int32, proto: Int32) -> Result<
        Int32, CheckFailure
    > {
        switch DatagramSyscalls.open(endpoint, type: type, proto: proto) {
        case .success(let descriptor):
            let result = DatagramSyscalls.connect(descriptor, to: endpoint)
            guard result == 0 else {
                DatagramSyscalls.close(descriptor)
                return .failure(unreachable(result))
            }
            return .success(descriptor)
        case .failure(let error):
            return .failure(.network("socket: \(String(cString: strerror(error.code)))"))
        }
    }

    static func sendFailure(_ code: Int32) -> CheckFailure? {
        code == 0 ? nil : unreachable(code)
    }

    /// A socket error on a connected datagram socket: the ICMP error the
    /// kernel turned into it, or the local reason a packet could not leave.
    static func unreachable(_ code: Int32) -> CheckFailure {
        switch code {
        case ECONNREFUSED: return .unreachable("ICMP port unreachable (connection refused)")
        case EHOSTUNREACH: return .unreachable("ICMP host unreachable")
        case ENETUNREACH: return .unreachable("network unreachable")
        case EHOSTDOWN: return .unreachable("host down")
        case EACCES, EPERM: return .unreachable("administratively prohibited: \(String(cString: strerror(code)))")
        case ETIMEDOUT: return .network("send timed out")
        default: return .network(String(cString: strerror(code)))
        }
    }
}
