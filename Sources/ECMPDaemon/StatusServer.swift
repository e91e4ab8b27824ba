import ECMPCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The status and metrics endpoint as a lifecycle `Service`: serves
/// `StatusRoutes` on `status.listen` until graceful shutdown.
///
/// It binds loopback unless configured otherwise, and bounds what a client
/// can cost: bodies are rejected past a few bytes, headers past a few KiB,
/// and a connection that sends nothing complete for `idleTimeout` (say, half
/// a request line) is closed. Connections are served concurrently, so a slow
/// client never delays another.
public struct StatusServer: Service {
    public struct Limits: Sendable {
        public var maxRequestBodyBytes: Int
        public var maxHeaderBytes: Int
        public var idleTimeout: Duration

        public init(
            maxRequestBodyBytes: Int = 1024, maxHeaderBytes: Int = 8 * 1024, idleTimeout: Duration = .seconds(10)
        ) {
            self.maxRequestBodyBytes = maxRequestBodyBytes
            self.maxHeaderBytes = maxHeaderBytes
            self.idleTimeout = idleTimeout
        }
    }

    /// `status.listen` did not parse as `ADDRESS:PORT`.
    public struct InvalidListenAddress: Error, CustomStringConvertible {
        public var text: String
        public var description: String {
            "status.listen '\(text)' is not ADDRESS:PORT such as 127.0.0.1:9477"
        }
    }

    /// The default `status.listen`: loopback only, so nothing is exposed
    /// beyond the director without a deliberate change.
    public static let defaultListen = StatusSettings().listen

    public let host: String
    public let port: Int
    private let status: ControllerStatus
    private let metrics: ControllerMetrics
    private let limits: Limits
    private let logger: Logger
    private let onServerRunning: @Sendable (_ port: Int) async -> Void

    /// - Parameter onServerRunning: called with the bound port once the
    ///   socket is listening (port 0 binds an ephemeral one).
    public init(
        host: String, port: Int, status: ControllerStatus, metrics: ControllerMetrics,
        limits: Limits = Limits(), logger: Logger,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.status = status
        self.metrics = metrics
        self.limits = limits
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    /// From the configuration's `status.listen` text (`host:port` or `[v6]:port`).
    public init(
        listen: String = StatusServer.defaultListen, status: ControllerStatus, metrics: ControllerMetrics,
        limits: Limits = Limits(), logger: Logger
    ) throws {
        guard let (host, port) = StatusListenAddress.split(listen) else { throw InvalidListenAddress(text: listen) }
        self.init(host: host, port: port, status: status, metrics: metrics, limits: limits, logger: logger)
    }

    public func run() async throws {
        // `run()`, not `runService()`: the latter traps SIGTERM itself and
        // closes the server ahead of the daemon's ServiceGroup, which then
        // sees a service end out of turn and cancels the rest (on_stop and
        // the event sink's last writes included).
        try await makeApplication().run()
    }

    /// The Hummingbird application behind `run()`; tests drive it with
    /// HummingbirdTesting's clients.
    public func makeApplication() -> some ApplicationProtocol {
        let router = StatusRoutes.makeRouter(
            status: status, metrics: metrics, maxRequestBodyBytes: limits.maxRequestBodyBytes)
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
            maxHeaderFieldCount: 100)
        let idle = TimeAmount.nanoseconds(
            Int64(limits.idleTimeout.components.seconds) * 1_000_000_000
                + limits.idleTimeout.components.attoseconds / 1_000_000_000)
        let onServerRunning = self.onServerRunning
        let logger = self.logger
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: idle, httpDecoderConfiguration: decoder)),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                logger.info(
                    "status endpoint listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"]
                )
                await onServerRunning(channel.localAddress?.port ?? 0)
            },
            logger: logger
        )
    }
}
