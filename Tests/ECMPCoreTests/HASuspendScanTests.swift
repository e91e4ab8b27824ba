@testable import ECMPCore
import XCTest

/// The observe-mode scan for keepalived's `ha_suspend`: only inside a
/// `virtual_server`, found through includes, with the file and line an
/// operator must edit.
final class HASuspendScanTests: XCTestCase {
    func scan(
        _ text: String, file: String = "/etc/keepalived/keepalived.conf", configID: String? = nil,
        includes: [String: [(file: String, text: String)]] = [:]
    ) -> [String] {
        KeepalivedImporter.haSuspendLocations(text: text, file: file, configID: configID) { pattern in
            includes[pattern] ?? []
        }.map(\.description)
    }

    func testHASuspendInsideAVirtualServerIsFoundWithFileAndLine() {
        let text = """
            global_defs {
                router_id dir1
            }
            virtual_server 198.18.0.100 80 {
                lb_algo rr
                ha_suspend
                real_server 198.18.1.1 80 {
                    TCP_CHECK {
                    }
                }
            }

            """
        XCTAssertEqual(scan(text), ["/etc/keepalived/keepalived.conf:6"])
    }

    func testEveryVirtualServerWithHASuspendIsNamed() {
        let text = """
            virtual_server 198.18.0.100 80 {
                ha_suspend
            }
            virtual_server 198.18.0.100 443 {
                lb_algo rr
            }
            virtual_server 198.18.0.101 53 {
                ha_suspend
            }

            """
        XCTAssertEqual(scan(text), ["/etc/keepalived/keepalived.conf:2", "/etc/keepalived/keepalived.conf:8"])
    }

    func testHASuspendOutsideAVirtualServerIsNotReported() {
        let text = """
            ha_suspend
            global_defs {
                ha_suspend
            }
            vrrp_instance VI_1 {
                ha_suspend
            }
            virtual_server_group web {
                198.18.0.100 80
            }

            """
        XCTAssertEqual(scan(text), [])
    }

    func testACommentedOutHASuspendIsNotReported() {
        XCTAssertEqual(scan("virtual_server 198.18.0.100 80 {\n    # ha_suspend\n    ! ha_suspend\n}\n"), [])
    }

    func testHASuspendOnAFwmarkVirtualServerIsNotReportedBecauseKeepalivedClearsIt() {
        XCTAssertEqual(scan("virtual_server fwmark 7 {\n    ha_suspend\n}\n"), [])
    }

    func testHASuspendInAnIncludedFileIsNamedByThatFilesPathAndLine() {
        let text = """
            global_defs {
            }
            include conf.d/*.conf

            """
        let included = """
            # web
            virtual_server 198.18.0.100 80 {
                ha_suspend
            }

            """
        let includes = [
            "/etc/keepalived/conf.d/*.conf": [
                (
                    file: "/etc/keepalived/conf.d/dns.conf",
                    text: "virtual_server 198.18.0.101 53 {\n    lb_algo rr\n}\n"
                ),
                (file: "/etc/keepalived/conf.d/web.conf", text: included),
            ]
        ]
        XCTAssertEqual(scan(text, includes: includes), ["/etc/keepalived/conf.d/web.conf:3"])
    }

    func testHASuspendIncludedInsideAVirtualServerBlockIsFound() {
        let text = "virtual_server 198.18.0.100 80 {\n    include common/vs-settings.conf\n}\n"
        let includes = [
            "/etc/keepalived/common/vs-settings.conf": [
                (file: "/etc/keepalived/common/vs-settings.conf", text: "lb_algo rr\nha_suspend\n")
            ]
        ]
        XCTAssertEqual(scan(text, includes: includes), ["/etc/keepalived/common/vs-settings.conf:2"])
    }

    func testConditionalLinesAreReadForThisDirectorsConfigID() {
        let text = "virtual_server 198.18.0.100 80 {\n@dir1 ha_suspend\n}\n"
        XCTAssertEqual(scan(text, configID: "dir1"), ["/etc/keepalived/keepalived.conf:2"])
        XCTAssertEqual(scan(text, configID: "dir2"), [])
    }

    func testAFileThatWouldNotImportIsStillScanned() {
        // Observe mode runs beside a keepalived whose config the import
        // would refuse (here an IPv6 virtual server); the scan must not.
        let text = "virtual_server 2001:db8::10 80 {\n    ha_suspend\n    some_future_keyword 3\n}\n"
        XCTAssertEqual(scan(text), ["/etc/keepalived/keepalived.conf:2"])
    }
}
