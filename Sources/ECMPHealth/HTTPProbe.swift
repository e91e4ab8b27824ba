import ECMPCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 GET (over TLS for https), judged on the status code and,
/// when configured, the body's MD5. The whole exchange (connect, TLS,
/// response to its last byte) must finish within the check's timeout: a
/// server that sends headers and then stalls is as useless to a client as
/// one that never answers.
enum HTTPProbe {
    static func run(_ target: CheckTarget, http: HTTPCheck, tls: TLSContexts, on loop: any EventLoop)
        -> EventLoopFuture<CheckOutcome>
    {
        let started = ContinuousClock.now
        let timeout = target.check.timeout
        let address: SocketAddress
        let destination = target.viaVIP.map { IPAddress.v4($0.vip) } ?? target.address
        do {
            address = try SocketAddress(ipAddress: destination.description, port: target.port)
        } catch {
            return loop.makeSucceededFuture(
                .failure(.network("bad address \(destination):\(target.port)"), latency: .zero))
        }
        let request = Self.request(http, target: target)
        let promise = loop.makePromise(of: HTTPResponseParser.Response.self)
        let handler = HTTPCheckHandler(request: request, digestBody: http.digest != nil, promise: promise)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(timeout.nanoseconds))
            .channelInitializer { channel in
                do {
                    if http.tls {
                        let context = try tls.context(verifying: http.verifyCertificate)
                        let serverName = http.host.flatMap { host in IPAddress(host) == nil ? host : nil }
                        let sslHandler = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(sslHandler)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let deadline = loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
            promise.fail(CheckFailure.responseTimeout(timeout, received: handler.received))
        }
        var connecting = bootstrap
        if let path = target.viaVIP {
            // As TCPCheckReactor's via_vip probe: marked, from the address
            // toward the real server (ConnectSyscalls.startConnect(to:mark:realServer:)).
            let vip = "\(path.vip):\(target.port)"
            guard let mark = path.mark else {
                deadline.cancel()
                return loop.makeSucceededFuture(
                    .failure(
                        .viaVIP(.network("no firewall mark free for this VIP path (the mark range is full)"), vip: vip),
                        latency: .zero))
            }
            switch ConnectSyscalls.sourceAddress(toward: .init(target.address, port: target.port)) {
            case .success(.v4(let source)):
                connecting =
                    connecting
                    .channelOption(.socketOption(.init(rawValue: SO_MARK)), value: Int(Int32(bitPattern: mark)))
                    .bind(to: SocketAddress(source, host: ""))
            case .success(.v6):
                preconditionFailure("via_vip targets are IPv4 (ConfigParser)")
            case .failure(let failure):
                deadline.cancel()
                return loop.makeSucceededFuture(
                    .failure(
                        .viaVIP(ProbeError.failure(errno: failure.code, connected: false, received: 0), vip: vip),
                        latency: .zero))
            }
        }
        connecting.connect(to: address).whenComplete { result in
            switch result {
            case .success(let channel):
                // Whatever settles the promise (response, error, timeout), the connection goes.
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                promise.fail(error)
            }
        }
        return promise.futureResult.map { response -> CheckOutcome in
            deadline.cancel()
            let latency = ContinuousClock.now - started
            if !http.statusCodes.contains(response.status) {
                return .failure(.unexpectedStatus(response.status, expected: http.statusCodes), latency: latency)
            }
            if let expected = http.digest, let got = response.bodyDigest, got != expected {
                return .failure(.digestMismatch(got: got, expected: expected), latency: latency)
            }
            return .success(latency: latency)
        }.recover { error in
            deadline.cancel()
            let failure = ProbeError.failure(
                error, timeout: timeout, connected: handler.connected, received: handler.received)
            return .failure(
                target.viaVIP.map { .viaVIP(failure, vip: "\($0.vip):\(target.port)") } ?? failure,
                latency: ContinuousClock.now - started)
        }
    }

    /// `GET path HTTP/1.1` with Host (the configured one, else the address
    /// and port, the VIP's for a via_vip check) and `Connection: close`.
    static func request(_ http: HTTPCheck, target: CheckTarget) -> String {
        let defaultPort = http.tls ? 443 : 80
        let hostHeader: String
        if let host = http.host {
            hostHeader = host
        } else {
            // A via_vip probe asks for the VIP, as a client does.
            let destination = target.viaVIP.map { IPAddress.v4($0.vip) } ?? target.address
            let address: String
            switch destination {
            case .v4: address = destination.description
            case .v6: address = "[\(destination)]"
            }
            hostHeader = target.port == defaultPort ? address : "\(address):\(target.port)"
        }
        return
            "GET \(http.path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: ecmpd-check\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    }
}

/// Feeds the response into `HTTPResponseParser` and settles the promise
/// once; bytes after the response are ignored. Lives on the channel's loop.
final class HTTPCheckHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: String
    private var parser: HTTPResponseParser
    private let promise: EventLoopPromise<HTTPResponseParser.Response>
    private(set) var connected = false
    var received: Int { parser.received }

    init(request: String, digestBody: Bool, promise: EventLoopPromise<HTTPResponseParser.Response>) {
        self.request = request
        parser = HTTPResponseParser(digestBody: digestBody)
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        connected = true
        var buffer = context.channel.allocator.buffer(capacity: request.utf8.count)
        buffer.writeString(request)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            let progress = try buffer.withUnsafeReadableBytes { bytes throws(CheckFailure) in try parser.feed(bytes) }
            if case .complete(let response) = progress { promise.succeed(response) }
        } catch {
            promise.fail(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        do { promise.succeed(try parser.finish()) } catch { promise.fail(error) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

/// The two TLS client contexts (certificate verified or not), built once:
/// creating one loads the system trust store, far too slow per check.
final class TLSContexts: @unchecked Sendable {
    private let lock = NIOLock()
    private var verifying: NIOSSLContext?
    private var trusting: NIOSSLContext?

    func context(verifying verify: Bool) throws -> NIOSSLContext {
        try lock.withLock {
            if verify, let verifying { return verifying }
            if !verify, let trusting { return trusting }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verify ? .fullVerification : .none
            let context = try NIOSSLContext(configuration: configuration)
            if verify { verifying = context } else { trusting = context }
            return context
        }
    }
}
