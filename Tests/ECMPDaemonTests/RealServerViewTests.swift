@testable import ECMPCore
@testable import ECMPDaemon
@testable import ECMPHealth
import XCTest

/// `/status` rows and the real-server metric lines, made from the last
/// cycle's view when asked for.
final class RealServerViewTests: XCTestCase {
    static let yaml = """
        mode: managed
        node: { hostname: d1 }
        vips:
          - address: 198.18.0.100
            services:
              - protocol: tcp
                port: 80
                real_servers:
                  - address: 198.18.1.3
                    check: { type: tcp, interval: 1s, timeout: 1s, fall: 1, rise: 1 }
                  - address: 198.18.1.2
                    check: { type: tcp, interval: 1s, timeout: 1s, fall: 1, rise: 1 }
                  - address: 198.18.1.4
                    port: 8080
                  - address: 198.18.1.5
                    check: { type: http, path: /, interval: 1s, timeout: 1s, fall: 1, rise: 1 }
        """

    func view() throws -> RealServerView {
        let config = try ConfigParser.parse(Self.yaml, file: "view.yaml").config
        let entries = RealServerView.entries(for: config)
        var health: [RealServerKey: RealServerHealth] = [:]
        for target in CheckTarget.all(in: config) {
            var tracker = CheckTracker(target.check)
            switch target.address.description {
            case "198.18.1.2": _ = tracker.record(.success(latency: .milliseconds(3)))
            case "198.18.1.3": _ = tracker.record(.failure(.connectionRefused, latency: .microseconds(250)))
            default: continue  // 198.18.1.5: no result yet
            }
            health[target.key] = RealServerHealth(target: target, tracker: tracker)
        }
        let service = IPVSServiceIdentity.tcp(.v4(IPv4Address(198, 18, 0, 100)), port: 80)
        let table = IPVSTable([
            IPVSTable.Entry(
                IPVSService(service, scheduler: "wrr"),
                destinations: [IPVSDestination(IPAddress("198.18.1.2")!, port: 80, weight: 1)])
        ])
        return RealServerView(entries: entries, health: { [health] in health }, programmed: table)
    }

    func testRowsAreInAddressOrderWithVerdictErrorLatencyAndProgrammedWeight() throws {
        let rows = try view().rows()
        XCTAssertEqual(rows.map(\.server), ["198.18.1.2:80", "198.18.1.3:80", "198.18.1.4:8080", "198.18.1.5:80"])
        XCTAssertEqual(rows.map(\.state), ["up", "down", "up", "unknown"])
        XCTAssertEqual(rows.map(\.check), ["tcp", "tcp", "none", "none"])
        XCTAssertEqual(rows[0].latencyMilliseconds, 3)
        XCTAssertEqual(rows[0].weight, 1)
        XCTAssertNil(rows[1].weight, "not in the programmed table")
        XCTAssertEqual(rows[1].lastError, "connection refused")
        XCTAssertEqual(rows[1].flaps, 0)
        XCTAssertEqual(rows.map(\.service), Array(repeating: "TCP 198.18.0.100:80", count: 4))
    }

    func testMetricsTextHasAGaugeLinePerServerAndLatencyOnlyWhereMeasured() throws {
        let text = try view().metricsText()
        let up = text.split(separator: "\n").filter { $0.hasPrefix("ecmpd_realserver_up{") }
        XCTAssertEqual(
            up,
            [
                "ecmpd_realserver_up{service=\"TCP 198.18.0.100:80\",server=\"198.18.1.2:80\"} 1",
                "ecmpd_realserver_up{service=\"TCP 198.18.0.100:80\",server=\"198.18.1.3:80\"} 0",
                "ecmpd_realserver_up{service=\"TCP 198.18.0.100:80\",server=\"198.18.1.4:8080\"} 1",
                "ecmpd_realserver_up{service=\"TCP 198.18.0.100:80\",server=\"198.18.1.5:80\"} -1",
            ])
        let latency = text.split(separator: "\n").filter { $0.hasPrefix("ecmpd_realserver_check_latency_seconds{") }
        XCTAssertEqual(
            latency,
            [
                "ecmpd_realserver_check_latency_seconds{service=\"TCP 198.18.0.100:80\",server=\"198.18.1.2:80\"} 0.003",
                "ecmpd_realserver_check_latency_seconds{service=\"TCP 198.18.0.100:80\",server=\"198.18.1.3:80\"} 0.00025",
            ])
        XCTAssertTrue(text.contains("# TYPE ecmpd_realserver_flaps gauge\n"))
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("ecmpd_realserver_flaps{") }.count, 4)
    }

    func testNoRealServersMeansNoFamilies() {
        XCTAssertEqual(RealServerView(entries: [], health: { [:] }, programmed: IPVSTable()).metricsText(), "")
    }

    func testStatusServesTheViewsRows() async throws {
        let status = ControllerStatus()
        await status.publishRealServers(try view())
        let snapshot = await status.snapshot()
        XCTAssertEqual(snapshot.realServers?.count, 4)
        let metrics = await status.realServerMetrics()
        XCTAssertTrue(metrics.contains("server=\"198.18.1.3:80\"} 0"), metrics)
    }
}
