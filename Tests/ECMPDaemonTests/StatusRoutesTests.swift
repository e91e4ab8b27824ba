@testable import ECMPDaemon
import Foundation
import Logging
import ECMPCore
import XCTest

/// The routes, served on 127.0.0.1 and an ephemeral port, read with the
/// blocking client `ecmpd status` uses (raw sockets for requests with a
/// body, which that client never sends).
final class StatusRoutesTests: XCTestCase {
    func get(_ path: String, port: Int) async throws -> StatusClient.Response {
        try await blocking { try StatusClient(host: "127.0.0.1", port: port, timeout: .seconds(5)).get(path) }
    }

    func testStatusListsEveryVIPInAddressOrderWithStateReasonAndCounts() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture) { port in
            let response = try await get("/status", port: port)
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.header("content-type"), "application/json")
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            let vips = try XCTUnwrap(json["vips"] as? [[String: Any]])
            XCTAssertEqual(vips.map { $0["vip"] as? String }, ["192.0.2.2", "192.0.2.10", "2001:db8::1"])
            XCTAssertEqual(vips[0]["state"] as? String, "withdrawn")
            XCTAssertEqual(vips[0]["name"] as? String, "dns")
            XCTAssertEqual(vips[0]["reason"] as? String, "0 of 2 backends usable, below minimum 1, for 3 observations")
            XCTAssertEqual(vips[0]["usable"] as? Int, 0)
            XCTAssertEqual(vips[0]["total"] as? Int, 2)
            XCTAssertEqual(vips[0]["lastChange"] as? String, "2026-09-21T14:13:20Z")
            XCTAssertNil(vips[1]["reason"], "an announced VIP has no reason")
            XCTAssertEqual(vips[2]["state"] as? String, "held")
            XCTAssertNil(json["routingDaemon"], "absent until the controller reports it")
        }
    }

    func testStatusShowsCollaboratorHealthOnceReported() async throws {
        let fixture = await StatusFixture.make()
        await fixture.status.setRoutingDaemon(ComponentHealth(healthy: false, detail: "ospfd is not running"))
        try await withRunningServer(fixture) { port in
            let response = try await get("/status", port: port)
            let snapshot = try StatusSnapshot.makeDecoder().decode(StatusSnapshot.self, from: Data(response.body))
            XCTAssertEqual(snapshot.routingDaemon, ComponentHealth(healthy: false, detail: "ospfd is not running"))
            XCTAssertNil(snapshot.store)
        }
    }

    func testRoutingDaemonRowsAppearInStatusAndAsGaugesAndGoWhenNoLongerWatched() async throws {
        let fixture = await StatusFixture.make()
        await fixture.status.setRoutingDaemons([
            RoutingDaemonStatus(
                daemon: "zebra", running: true, pid: 7, detail: "running, pid 7", since: StatusFixture.changedAt),
            RoutingDaemonStatus(
                daemon: "ospfd", running: false, pid: 8, detail: "not running: pid 8 has exited",
                since: StatusFixture.changedAt),
        ])
        try await withRunningServer(fixture) { port in
            let snapshot = try StatusSnapshot.makeDecoder().decode(
                StatusSnapshot.self, from: Data(try await get("/status", port: port).body))
            XCTAssertEqual(snapshot.routingDaemons?.map(\.daemon), ["zebra", "ospfd"])
            XCTAssertEqual(snapshot.routingDaemons?.last?.running, false)
            let text = try PrometheusText(String(decoding: try await get("/metrics", port: port).body, as: UTF8.self))
            XCTAssertEqual(text.value("ecmpd_routing_daemon_up", ["daemon": "zebra"]), 1)
            XCTAssertEqual(text.value("ecmpd_routing_daemon_up", ["daemon": "ospfd"]), 0)
        }
        await fixture.status.setRoutingDaemons(nil)
        let cleared = await fixture.status.snapshot()
        XCTAssertNil(cleared.routingDaemons)
        XCTAssertFalse(fixture.metrics.render().contains("ecmpd_routing_daemon_up{"), "no longer watched: no gauge")
    }

    func testBFDSessionsAppearInStatusAndAsGaugesAndGoWithTheSession() async throws {
        let fixture = await StatusFixture.make()
        let router = IPv4Address("198.18.0.1")!, other = IPv4Address("198.18.0.3")!
        var flaps = BFDFlapCounter()
        _ = flaps.observe([BFDSession(peer: router, interface: "eth0", id: 1, state: .up, uptimeSeconds: 40)])
        let rows = flaps.observe([
            BFDSession(peer: router, interface: "eth0", id: 2, state: .up, uptimeSeconds: 1),
            BFDSession(peer: other, interface: "eth0", id: 3, state: .down, downtimeSeconds: 9),
        ])
        await fixture.status.setBFD(BFDStatus(sessions: rows))
        try await withRunningServer(fixture) { port in
            let snapshot = try StatusSnapshot.makeDecoder().decode(
                StatusSnapshot.self, from: Data(try await get("/status", port: port).body))
            XCTAssertEqual(snapshot.bfd?.sessions.map(\.peer), ["198.18.0.1", "198.18.0.3"])
            XCTAssertEqual(snapshot.bfd?.sessions.map(\.flaps), [1, 0], "replaced between reads: one flap")
            XCTAssertNil(snapshot.bfd?.sessions.first?.problem)
            XCTAssertNotNil(snapshot.bfd?.sessions.last?.problem)
            let text = try PrometheusText(String(decoding: try await get("/metrics", port: port).body, as: UTF8.self))
            XCTAssertEqual(text.value("ecmpd_bfd_session_up", ["peer": "198.18.0.1"]), 1)
            XCTAssertEqual(text.value("ecmpd_bfd_session_up", ["peer": "198.18.0.3"]), 0)
            XCTAssertEqual(text.value("ecmpd_bfd_session_flaps", ["peer": "198.18.0.1"]), 1)
            XCTAssertEqual(text.value("ecmpd_bfd_session_uptime_seconds", ["peer": "198.18.0.1"]), 1)
        }
        await fixture.status.setBFD(BFDStatus(sessions: Array(rows.prefix(1))))
        XCTAssertFalse(fixture.metrics.render().contains("peer=\"198.18.0.3\""), "a session bfdd no longer lists")
        await fixture.status.setBFD(nil)
        let cleared = await fixture.status.snapshot()
        XCTAssertNil(cleared.bfd)
        XCTAssertFalse(fixture.metrics.render().contains("ecmpd_bfd_session_up{"), "BFD off: no gauge")
    }

    func testMetricsIsPrometheusTextWithEveryFamily() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture) { port in
            let response = try await get("/metrics", port: port)
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
            let text = try PrometheusText(String(decoding: response.body, as: UTF8.self))
            XCTAssertEqual(
                text.types,
                [
                    "ecmpd_vip_announced": "gauge", "ecmpd_backends_usable": "gauge", "ecmpd_backends_total": "gauge",
                    "ecmpd_vip_transitions_total": "counter", "ecmpd_reconcile_duration_seconds": "histogram",
                    "ecmpd_netlink_errors_total": "counter", "ecmpd_routing_failures_total": "counter",
                    "ecmpd_netlink_event_overflows_total": "counter",
                ])
            XCTAssertEqual(
                text.value("ecmpd_routing_failures_total"), 0, "fault counters read 0 before the first fault")
            XCTAssertEqual(text.value("ecmpd_netlink_event_overflows_total"), 0)
            XCTAssertEqual(text.value("ecmpd_vip_announced", ["vip": "192.0.2.10"]), 1)
            XCTAssertEqual(text.value("ecmpd_vip_announced", ["vip": "192.0.2.2"]), 0)
            XCTAssertEqual(text.value("ecmpd_vip_announced", ["vip": "2001:db8::1"]), 1, "held is still on lo")
            XCTAssertEqual(text.value("ecmpd_backends_usable", ["vip": "192.0.2.10"]), 3)
            XCTAssertEqual(text.value("ecmpd_backends_total", ["vip": "192.0.2.2"]), 2)
            XCTAssertEqual(text.value("ecmpd_vip_transitions_total", ["vip": "192.0.2.2", "direction": "withdraw"]), 1)
            XCTAssertEqual(text.value("ecmpd_reconcile_duration_seconds_count"), 2)
            XCTAssertEqual(text.value("ecmpd_reconcile_duration_seconds_bucket", ["le": "0.005"]), 1)
            XCTAssertEqual(text.value("ecmpd_netlink_errors_total", ["operation": "add-address"]), 1)
        }
    }

    func testRepublishingWithoutAVIPDropsItFromStatusAndItsGaugesFromMetrics() async throws {
        let fixture = await StatusFixture.make()
        var snapshot = await fixture.status.snapshot()
        snapshot.vips.removeAll { $0.vip == "192.0.2.10" }
        await fixture.status.publish(snapshot.vips)
        try await withRunningServer(fixture) { port in
            let text = try PrometheusText(String(decoding: try await get("/metrics", port: port).body, as: UTF8.self))
            XCTAssertNil(text.value("ecmpd_vip_announced", ["vip": "192.0.2.10"]))
            XCTAssertNil(text.value("ecmpd_backends_total", ["vip": "192.0.2.10"]))
            XCTAssertEqual(text.value("ecmpd_vip_announced", ["vip": "192.0.2.2"]), 0)
            let status = try StatusSnapshot.makeDecoder().decode(
                StatusSnapshot.self, from: Data(try await get("/status", port: port).body))
            XCTAssertEqual(status.vips.map(\.vip), ["192.0.2.2", "2001:db8::1"])
        }
    }

    func testHealthzAnswersOK() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture) { port in
            let response = try await get("/healthz", port: port)
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "ok\n")
        }
    }

    func testUnknownPathsAreNotFound() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture) { port in
            for path in ["/", "/status/extra", "/admin", "/metrics.json"] {
                let response = try await get(path, port: port)
                XCTAssertEqual(response.status, 404, path)
            }
        }
    }

    func testRequestBodyPastTheLimitIsRejectedAndOneWithinItTolerated() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture, limits: .init(maxRequestBodyBytes: 64)) { port in
            let large = try await send(
                "GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n\(String(repeating: "x", count: 65))",
                port: port)
            XCTAssertTrue(large.hasPrefix("HTTP/1.1 413"), "got: \(large.prefix(40))")
            let small = try await send("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nsmall", port: port)
            XCTAssertTrue(
                small.hasPrefix("HTTP/1.1 200"), "a body within the limit is tolerated, got: \(small.prefix(40))")
        }
    }

    func testChunkedRequestBodyPastTheLimitIsRejected() async throws {
        let fixture = await StatusFixture.make()
        try await withRunningServer(fixture, limits: .init(maxRequestBodyBytes: 64)) { port in
            let chunk = String(repeating: "x", count: 40)
            let reply = try await send(
                "GET /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n\(chunk)\r\n28\r\n\(chunk)\r\n0\r\n\r\n",
                port: port)
            XCTAssertTrue(
                reply.hasPrefix("HTTP/1.1 413"),
                "a chunked body declares no length and is still bounded, got: \(reply.prefix(40))")
        }
    }

    func testDefaultBindIsLoopback() throws {
        let server = try StatusServer(
            status: ControllerStatus(), metrics: ControllerMetrics(), logger: .init(label: "test"))
        XCTAssertEqual(server.host, "127.0.0.1")
        XCTAssertEqual(server.port, 9477)
    }

    func testListenAddressAcceptsBracketedIPv6AndRejectsHostnames() throws {
        let v6 = try StatusServer(
            listen: "[::1]:9500", status: ControllerStatus(), metrics: ControllerMetrics(), logger: .init(label: "test")
        )
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.port, 9500)
        XCTAssertThrowsError(
            try StatusServer(
                listen: "localhost:9477", status: ControllerStatus(), metrics: ControllerMetrics(),
                logger: .init(label: "test")))
    }

    /// Sends `request` on a fresh connection; the response head, or "" if
    /// the server closed without one.
    private func send(_ request: String, port: Int) async throws -> String {
        try await blocking {
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send(request)
            return try connection.readAvailable(within: .seconds(5))
        }
    }
}
