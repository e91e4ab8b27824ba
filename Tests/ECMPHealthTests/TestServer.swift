import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A loopback TCP server for the probe tests that answers every connection
/// the same scripted way: raw bytes (optionally in timed pieces), silence,
/// or an immediate close. With a TLS context it speaks TLS first.
final class TestServer: @unchecked Sendable {
    enum Script: Sendable {
        /// Writes each piece, pausing `gap` between them, then closes (or not).
        case respond([String], gap: TimeAmount = .zero, close: Bool = true)
        /// Accepts and never answers.
        case hang
    }

    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init(_ script: Script, tls: NIOSSLContext? = nil) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                do {
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try child.pipeline.syncOperations.addHandler(ScriptHandler(script: script))
                    return child.eventLoop.makeSucceededVoidFuture()
                } catch { return child.eventLoop.makeFailedFuture(error) }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// Starts the script once the request (or anything) has arrived.
    final class ScriptHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let script: Script
        var started = false

        init(script: Script) { self.script = script }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !started else { return }
            started = true
            guard case .respond(let pieces, let gap, let close) = script else { return }
            write(pieces[...], gap: gap, close: close, context: context)
        }

        private func write(_ pieces: ArraySlice<String>, gap: TimeAmount, close: Bool, context: ChannelHandlerContext) {
            guard let piece = pieces.first else {
                if close { context.close(promise: nil) }
                return
            }
            var buffer = context.channel.allocator.buffer(capacity: piece.utf8.count)
            buffer.writeString(piece)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            let rest = pieces.dropFirst()
            if gap == .zero {
                write(rest, gap: gap, close: close, context: context)
            } else {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: gap) {
                    let (handler, context) = loopBound.value
                    handler.write(rest, gap: gap, close: close, context: context)
                }
            }
        }
    }

    /// A self-signed certificate for 127.0.0.1, made with openssl for the
    /// test run (no key material is committed).
    static func selfSignedContext() throws -> NIOSSLContext {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ecmpd-tls-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path
        let cert = directory.appendingPathComponent("cert.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=ecmpd-test", "-addext",
            "subjectAltName=IP:127.0.0.1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }
}
