import Foundation
import Hummingbird

/// The status endpoint's routes: `/status` (JSON), `/metrics` (Prometheus
/// text) and `/healthz`. Anything else is 404, Hummingbird's default for an
/// unmatched path.
public enum StatusRoutes {
    /// The Prometheus text exposition format's media type.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func makeRouter(
        status: ControllerStatus, metrics: ControllerMetrics, maxRequestBodyBytes: Int
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestBodyLimitMiddleware(maxBytes: maxRequestBodyBytes))
        router.get("/healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("/status") { _, _ in
            let body = try StatusSnapshot.makeEncoder().encode(await status.snapshot())
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/metrics") { _, _ in
            let text = metrics.render() + (await status.realServerMetrics())
            return Response(
                status: .ok, headers: [.contentType: metricsContentType],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }
}
