import Foundation
import XCTest
@testable import ECMPCore

/// Golden files: `Fixtures/keepalived/NAME.conf` (or `NAME/keepalived.conf`)
/// imports to `NAME.yaml`, warnings in its header. Run with
/// `ECMPD_UPDATE_GOLDEN=1` to rewrite them, then review the diff like code.
final class KeepalivedImportTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures/keepalived")

    /// Reads includes from the fixtures directory, naming files relative to
    /// it, as the CLI names them relative to where it was started.
    static func loadFixtures(_ pattern: String) throws -> [(file: String, text: String)] {
        var matches = glob_t()
        defer { globfree(&matches) }
        let root = fixtures.path + "/"
        guard glob(root + pattern, 0, nil, &matches) == 0 else { return [] }
        return try (0..<Int(matches.gl_pathc)).map { index in
            let path = String(cString: matches.gl_pathv[index]!)
            return (file: String(path.dropFirst(root.count)), text: try String(contentsOfFile: path, encoding: .utf8))
        }
    }

    private func importFixture(_ name: String, fwmarkVIP: IPv4Address? = nil) throws -> KeepalivedImport {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent(name), encoding: .utf8)
        return try KeepalivedImporter.importConfig(
            text: text, file: name, fwmarkVIP: fwmarkVIP, includeLoader: Self.loadFixtures)
    }

    private func assertMatchesGolden(
        _ input: String, golden: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let result = try importFixture(input)
        let yaml = ConfigEmitter.yaml(result.config, header: result.header(source: input))
        let goldenURL = Self.fixtures.appendingPathComponent(golden)
        if ProcessInfo.processInfo.environment["ECMPD_UPDATE_GOLDEN"] == "1" {
            try yaml.write(to: goldenURL, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: goldenURL, encoding: .utf8)
        XCTAssertEqual(
            yaml, expected,
            "\(input) no longer imports to \(golden); rerun with ECMPD_UPDATE_GOLDEN=1 and review the diff", file: file,
            line: line)
    }

    private func importText(
        _ text: String, file: String = "keepalived.conf", fwmarkVIP: IPv4Address? = nil,
        fwmarkVIP6: IPAddress? = nil, configID: String? = nil, includes: [String: String] = [:]
    ) throws(ConfigErrors) -> KeepalivedImport {
        try KeepalivedImporter.importConfig(
            text: text, file: file, fwmarkVIP: fwmarkVIP, fwmarkVIP6: fwmarkVIP6, configID: configID
        ) { path in
            includes.filter { $0.key == path }.map { (file: $0.key, text: $0.value) }
        }
    }

    /// The problems of an import that must fail, as printed.
    private func errors(
        _ text: String, fwmarkVIP: IPv4Address? = nil, includes: [String: String] = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) -> [String] {
        do {
            _ = try importText(text, fwmarkVIP: fwmarkVIP, includes: includes)
            XCTFail("imported without errors", file: file, line: line)
            return []
        } catch {
            return error.problems.filter { $0.severity == .error }.map(\.description)
        }
    }

    private func warnings(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            return try importText(text).warnings.map(\.description)
        } catch {
            XCTFail("import failed: \(error)", file: file, line: line)
            return []
        }
    }

    private func service(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> VirtualService? {
        do {
            let service = try importText(text).config.vips.first?.services.first
            XCTAssertNotNil(service, "no service imported", file: file, line: line)
            return service
        } catch {
            XCTFail("import failed: \(error)", file: file, line: line)
            return nil
        }
    }

    private func check(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> HealthCheck? {
        let check = service(text, file: file, line: line)?.realServers.first?.check
        XCTAssertNotNil(check, "no check imported", file: file, line: line)
        return check
    }

    private func virtualServer(_ body: String, realServer: String = "TCP_CHECK {\n}") -> String {
        """
        virtual_server 198.18.0.100 80 {
            lb_algo rr
            lb_kind DR
            protocol TCP
        \(body)
            real_server 198.18.0.11 80 {
                \(realServer)
            }
        }

        """
    }

    // MARK: Golden files

    func testDirectorWithVRRPAndTCPChecksMatchesGolden() throws {
        try assertMatchesGolden("01-director-tcp.conf", golden: "01-director-tcp.yaml")
    }

    func testHTTPChecksWithNatMaskAndNbGetRetryMatchGolden() throws {
        try assertMatchesGolden("02-http-nat-mask.conf", golden: "02-http-nat-mask.yaml")
    }

    func testOSPFDirectorWithHASuspendSorryServerAndGranularityMatchesGolden() throws {
        try assertMatchesGolden("03-ospf-ha-suspend.conf", golden: "03-ospf-ha-suspend.yaml")
    }

    func testIncludesResolvedFromTheIncludingFileMatchGolden() throws {
        try assertMatchesGolden("05-include/keepalived.conf", golden: "05-include.yaml")
    }

    func testFwmarkMiscAndSSLChecksMatchGolden() throws {
        try assertMatchesGolden("06-fwmark-misc-ssl.conf", golden: "06-fwmark-misc-ssl.yaml")
    }

    func testCommentsQuotesAndUnknownKeywordsMatchGolden() throws {
        try assertMatchesGolden("07-comments-unknown.conf", golden: "07-comments-unknown.yaml")
    }

    func testGroupsDefinitionsAndConditionalLinesMatchGolden() throws {
        try assertMatchesGolden("08-group-definitions.conf", golden: "08-group-definitions.yaml")
    }

    func testIPv6VirtualServersAndRealServersImportBesideIPv4OnesWithAnOSPF6Section() throws {
        try assertMatchesGolden("09-ipv6.conf", golden: "09-ipv6.yaml")
        let config = try importFixture("09-ipv6.conf").config
        XCTAssertEqual(config.vips.map(\.address), [IPAddress("2001:db8::10")!, IPAddress("198.18.0.100")!])
        XCTAssertEqual(
            config.vips[0].services[0].realServers.map(\.address),
            [IPAddress("2001:db8:1::11")!, IPAddress("2001:db8:1::12")!])
        XCTAssertNotNil(config.ospf6)
        // An IPv4-only import has no ospf6 section.
        XCTAssertNil(try importFixture("01-director-tcp.conf").config.ospf6)
    }

    func testEveryGoldenFileReadsBackAsTheImportedConfig() throws {
        let cases =
            [
                "01-director-tcp", "02-http-nat-mask", "03-ospf-ha-suspend", "06-fwmark-misc-ssl",
                "07-comments-unknown", "08-group-definitions",
            ]
            .map { ("\($0).conf", "\($0).yaml") } + [("05-include/keepalived.conf", "05-include.yaml")]
        for (input, golden) in cases {
            let imported = try importFixture(input).config
            let yaml = try String(contentsOf: Self.fixtures.appendingPathComponent(golden), encoding: .utf8)
            XCTAssertEqual(try ConfigParser.parse(yaml, file: golden).config, imported, golden)
        }
    }

    // MARK: Capitalised keywords

    func testKeywordsCapitalisedByATranslationToolFailWithLineNumberedDidYouMean() throws {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("04-capitalised.conf"), encoding: .utf8)
        XCTAssertThrowsError(try importText(text, file: "04-capitalised.conf")) { error in
            let errors = (error as! ConfigErrors).problems.filter { $0.severity == .error }.map(\.description)
            let hint = "keywords are case-sensitive and keepalived does not know"
            XCTAssertEqual(
                errors,
                [
                    "04-capitalised.conf:2: error: Global_defs: \(hint) 'Global_defs'; did you mean 'global_defs'?",
                    "04-capitalised.conf:3: error: Notification_email: \(hint) 'Notification_email'; did you mean 'notification_email'?",
                    "04-capitalised.conf:6: error: Router_id: \(hint) 'Router_id'; did you mean 'router_id'?",
                    "04-capitalised.conf:10: error: Vrrp_instance: \(hint) 'Vrrp_instance'; did you mean 'vrrp_instance'?",
                    "04-capitalised.conf:11: error: State: \(hint) 'State'; did you mean 'state'?",
                    "04-capitalised.conf:12: error: Interface: \(hint) 'Interface'; did you mean 'interface'?",
                    "04-capitalised.conf:13: error: Virtual_router_id: \(hint) 'Virtual_router_id'; did you mean 'virtual_router_id'?",
                    "04-capitalised.conf:14: error: Priority: \(hint) 'Priority'; did you mean 'priority'?",
                    "04-capitalised.conf:15: error: Virtual_ipaddress: \(hint) 'Virtual_ipaddress'; did you mean 'virtual_ipaddress'?",
                    "04-capitalised.conf:21: error: Virtual_server: \(hint) 'Virtual_server'; did you mean 'virtual_server'?",
                    "04-capitalised.conf:22: error: Delay_loop: \(hint) 'Delay_loop'; did you mean 'delay_loop'?",
                    "04-capitalised.conf:23: error: Lb_algo: \(hint) 'Lb_algo'; did you mean 'lb_algo'?",
                    "04-capitalised.conf:24: error: Lb_kind: \(hint) 'Lb_kind'; did you mean 'lb_kind'?",
                    "04-capitalised.conf:25: error: Nat_mask: \(hint) 'Nat_mask'; did you mean 'nat_mask'?",
                    "04-capitalised.conf:26: error: Protocol: \(hint) 'Protocol'; did you mean 'protocol'?",
                    "04-capitalised.conf:27: error: Real_server: \(hint) 'Real_server'; did you mean 'real_server'?",
                    "04-capitalised.conf:28: error: Weight: \(hint) 'Weight'; did you mean 'weight'?",
                    "04-capitalised.conf:30: error: Connect_timeout: \(hint) 'Connect_timeout'; did you mean 'connect_timeout'?",
                    "04-capitalised.conf:31: error: Nb_get_retry: \(hint) 'Nb_get_retry'; did you mean 'nb_get_retry'? (keepalived does not know that in TCP_CHECK either)",
                    "04-capitalised.conf:32: error: Delay_before_retry: \(hint) 'Delay_before_retry'; did you mean 'delay_before_retry'?",
                ])
        }
    }

    func testCorrectlySpelledKeywordInACapitalisedBlockIsNotAnError() {
        let problems = errors("Virtual_server 198.18.0.100 80 {\n lb_algo rr\n}\n")
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].hasPrefix("keepalived.conf:1: error: Virtual_server:"), problems[0])
    }

    func testWrongCaseInAValueIsNamedWithTheRightSpelling() {
        XCTAssertEqual(
            errors(virtualServer("lb_kind dr").replacingOccurrences(of: "    lb_kind DR\n", with: "")),
            [
                "keepalived.conf:4: error: lb_kind: \"dr\": did you mean 'DR'? expected DR, NAT or TUN, in upper case as keepalived requires"
            ])
    }

    // MARK: Warnings that keep the import going

    func testNatMaskIsAWarningWithItsLine() {
        XCTAssertEqual(
            warnings(virtualServer("    nat_mask 255.255.255.0")).first { $0.contains("nat_mask") },
            "keepalived.conf:5: warning: nat_mask: keepalived no longer knows nat_mask (removed in 1.2.20; it only ever applied to Linux 2.2 masquerading) and ignores it; ignored"
        )
    }

    func testNbGetRetryIsReadAsRetryWithADeprecationWarning() {
        let text = virtualServer("", realServer: "HTTP_GET {\n url {\n path /\n }\n nb_get_retry 4\n }")
        XCTAssertEqual(check(text)?.retries, 5)
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:11: warning: nb_get_retry: deprecated: keepalived says 'nb_get_retry is deprecated - please use retry'; read as retry"
            ))
    }

    func testUnknownKeywordIsAWarningWithDidYouMean() {
        XCTAssertTrue(
            warnings(virtualServer("    persistance_timeout 30")).contains(
                "keepalived.conf:5: warning: persistance_timeout: unknown keyword in virtual_server; did you mean 'persistence_timeout'?; keepalived ignores it, and so does the import"
            ))
    }

    func testUnknownKeywordOpeningABlockIsAnErrorBecauseTheBlockWouldBeLost() {
        XCTAssertEqual(
            errors(virtualServer("", realServer: "TCP_CHEK {\n connect_timeout 3\n }")),
            [
                "keepalived.conf:7: error: TCP_CHEK: unknown keyword in real_server; did you mean 'TCP_CHECK'?; its { } block cannot be imported"
            ])
    }

    func testUnsupportedCheckerIsNamedInAWarning() {
        let text = virtualServer("", realServer: "SMTP_CHECK {\n }")
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:7: warning: SMTP_CHECK: not supported by ecmpd, which has tcp, http, https, exec, udp, dns and icmp checks; this check is dropped"
            ))
        // keepalived did check this server: the warning says what changes, not "as keepalived did".
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:7: warning: SMTP_CHECK: \"198.18.0.11:80\": keepalived checked this real server with SMTP_CHECK, which ecmpd does not support: imported without a check, so ecmpd takes it as always healthy where keepalived took it out when the check failed; add a check (tcp, exec...) by hand"
            ), "\(warnings(text))")
        XCTAssertFalse(warnings(text).contains { $0.contains("as keepalived did") })
        XCTAssertEqual(
            service(text)?.realServers.first,
            RealServer(address: IPAddress("198.18.0.11")!, port: 80, droppedKeepalivedCheck: "SMTP_CHECK"))
        XCTAssertTrue(
            warnings(virtualServer("", realServer: "weight 2")).contains(
                "keepalived.conf:6: warning: real_server: \"198.18.0.11:80\": no check: ecmpd takes this server as always healthy, as keepalived did"
            ))
    }

    func testUnsupportedCheckSettingIsNamedInAWarning() {
        XCTAssertTrue(
            warnings(virtualServer("", realServer: "TCP_CHECK {\n bindto 198.18.0.2\n }")).contains(
                "keepalived.conf:8: warning: bindto: ecmpd does not bind checks to a source address"))
    }

    func testVRRPBlocksAreNotedAsNotNeededWithOSPF() {
        let text =
            "vrrp_script chk_web {\n script \"/bin/true\"\n}\nvrrp_sync_group G {\n group {\n VI_1\n }\n}\n"
            + virtualServer("")
        let found = warnings(text)
        XCTAssertTrue(
            found.contains(
                "keepalived.conf:1: warning: vrrp_script: \"chk_web\": not needed with OSPF ECMP: every director announces the VIP itself, so there is no VRRP master to elect; skipped"
            ), "\(found)")
        XCTAssertTrue(
            found.contains(
                "keepalived.conf:4: warning: vrrp_sync_group: \"G\": not needed with OSPF ECMP: every director announces the VIP itself, so there is no VRRP master to elect; skipped"
            ), "\(found)")
    }

    func testGlobalBlocksAreSkippedWithANote() {
        let found = warnings("static_ipaddress {\n 198.18.9.1/24 dev eth0\n}\n" + virtualServer(""))
        XCTAssertEqual(
            found.first,
            "keepalived.conf:1: warning: static_ipaddress: addresses keepalived adds at start are not ecmpd's business (it manages only the VIPs on lo); keep them in the system's network configuration; skipped"
        )
    }

    func testHASuspendIsALoudWarningAndIsReportedWithItsLocation() throws {
        let result = try importText(virtualServer("    ha_suspend"))
        XCTAssertEqual(result.haSuspend, [KeepalivedLocation(file: "keepalived.conf", line: 5)])
        let warning = try XCTUnwrap(result.warnings.first { $0.field == "ha_suspend" })
        XCTAssertTrue(warning.message.contains("never sees the backends recover"), warning.message)
    }

    // MARK: Timing and settings as keepalived has them

    func testCheckWithoutSettingsGetsKeepalivedsDefaults() {
        XCTAssertEqual(
            check(virtualServer("")),
            HealthCheck(
                kind: .tcp, interval: .seconds(60), timeout: .seconds(5), rise: 1, fall: 1, retries: 2,
                retryDelay: .seconds(1)))
    }

    func testRetryCountsRetriesAfterTheFirstAttempt() {
        XCTAssertEqual(check(virtualServer("", realServer: "TCP_CHECK {\n retry 3\n }"))?.retries, 4)
        XCTAssertEqual(check(virtualServer("", realServer: "TCP_CHECK {\n retry 0\n }"))?.retries, 1)
    }

    func testHTTPChecksWaitThreeSecondsBeforeARetryByDefault() {
        let http = check(virtualServer("", realServer: "HTTP_GET {\n url {\n path /\n }\n }"))
        XCTAssertEqual(http?.retryDelay, .seconds(3))
        XCTAssertEqual(http?.kind, .http(HTTPCheck(path: "/", statusCodes: Array(200...299))))
    }

    func testMiscCheckDoesNotRetryAndTimesOutAfterTheDelayLoop() {
        let misc = check(
            virtualServer("    delay_loop 7", realServer: "MISC_CHECK {\n misc_path /usr/lib/ecmpd/check\n }"))
        XCTAssertEqual(
            misc,
            HealthCheck(
                kind: .exec(argv: ["/usr/lib/ecmpd/check"]), interval: .seconds(7), timeout: .seconds(7), rise: 1,
                fall: 1, retries: 1, retryDelay: .seconds(1)))
    }

    func testCheckSettingsComeFromTheCheckerThenRealServerThenVirtualServer() {
        let text = virtualServer(
            "    delay_loop 9\n    connect_timeout 4\n    retry 5\n    delay_before_retry 6",
            realServer: "connect_timeout 2\n retry 1\n TCP_CHECK {\n retry 2\n }")
        XCTAssertEqual(
            check(text),
            HealthCheck(
                kind: .tcp, interval: .seconds(9), timeout: .seconds(2), rise: 1, fall: 1, retries: 3,
                retryDelay: .seconds(6)))
    }

    func testSettingsAfterTheRealServersStillApplyToThem() {
        let text = """
            virtual_server 198.18.0.100 80 {
                lb_kind DR
                protocol TCP
                real_server 198.18.0.11 80 {
                    TCP_CHECK {
                    }
                }
                delay_loop 3
                weight 4
            }
            """
        XCTAssertEqual(check(text)?.interval, .seconds(3))
        XCTAssertEqual(service(text)?.realServers.first?.weight, 4)
    }

    func testFractionalSecondsBecomeMilliseconds() {
        XCTAssertEqual(check(virtualServer("    delay_loop 0.25"))?.interval, .milliseconds(250))
    }

    func testHostComesFromTheURLThenCheckerThenRealServerThenVirtualServer() {
        let text = virtualServer(
            "    virtualhost vs.example.net",
            realServer: "virtualhost rs.example.net\n HTTP_GET {\n url {\n path /\n }\n }")
        guard case .http(let http)? = check(text)?.kind else { return XCTFail("not an HTTP check") }
        XCTAssertEqual(http.host, "rs.example.net")
    }

    func testStatusCodeRangesAreExpanded() {
        let text = virtualServer("", realServer: "HTTP_GET {\n url {\n path /\n status_code 204 200-201\n }\n }")
        guard case .http(let http)? = check(text)?.kind else { return XCTFail("not an HTTP check") }
        XCTAssertEqual(http.statusCodes, [200, 201, 204])
    }

    func testSSLGetIsAnHTTPSCheckThatDoesNotVerifyCertificates() {
        let text = virtualServer("", realServer: "SSL_GET {\n url {\n path /\n status_code 200\n }\n }")
        XCTAssertEqual(
            check(text)?.kind, .http(HTTPCheck(path: "/", statusCodes: [200], tls: true, verifyCertificate: false)))
    }

    func testOnlyTheFirstOfSeveralChecksIsImportedWithAWarning() {
        let text = virtualServer("", realServer: "TCP_CHECK {\n }\n MISC_CHECK {\n misc_path /bin/true\n }")
        XCTAssertEqual(check(text)?.kind, .tcp)
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:9: warning: MISC_CHECK: ecmpd runs one check per real server, keepalived wanted every check to pass; only the TCP_CHECK at line 7 is imported"
            ))
    }

    func testInhibitOnFailureIsOnWithoutAValueAndWithOn() {
        XCTAssertEqual(service(virtualServer("    inhibit_on_failure"))?.inhibitOnFailure, true)
        XCTAssertEqual(service(virtualServer("    inhibit_on_failure on"))?.inhibitOnFailure, true)
        XCTAssertEqual(service(virtualServer(""))?.inhibitOnFailure, false)
    }

    func testInhibitOnFailureOffInAVirtualServerIsOnAsInKeepalived() {
        let text = virtualServer("    inhibit_on_failure off")
        XCTAssertEqual(service(text)?.inhibitOnFailure, true)
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:5: warning: inhibit_on_failure: \"off\": keepalived ignores any value here and inhibits anyway; imported as on"
            ))
    }

    private func maglevVirtualServer(_ lines: String) -> String {
        """
        virtual_server 198.18.0.100 80 {
            lb_algo mh
        \(lines)
            lb_kind DR
            protocol TCP
            real_server 198.18.0.11 80 {
                TCP_CHECK {
                }
            }
        }

        """
    }

    func testMaglevFlagsMapAcrossByTheirOwnKeywords() {
        let text = maglevVirtualServer("    mh-fallback\n    mh-port\n    inhibit_on_failure")
        XCTAssertEqual(service(text)?.scheduler, "mh")
        XCTAssertEqual(service(text)?.schedulerFlags, ["mh-fallback", "mh-port"])
        XCTAssertEqual(warnings(text).filter { $0.contains("mh-fallback") }, [], "fallback set: nothing to warn about")
    }

    func testMaglevWithInhibitButNoFallbackNamesTheDroppedConnections() {
        let text = maglevVirtualServer("    mh-port\n    inhibit_on_failure")
        XCTAssertEqual(service(text)?.schedulerFlags, ["mh-port"], "imported as keepalived runs it")
        let warning = warnings(text).first { $0.contains("mh-fallback") }
        XCTAssertEqual(
            warning,
            "keepalived.conf:1: warning: scheduler_flags: \"mh-port\": "
                + MaglevFallback.warning("inhibit_on_failure sets a failed real server to weight 0"))
        XCTAssertEqual(
            warnings(maglevVirtualServer("    mh-port")).filter { $0.contains("mh-fallback") }, [],
            "without inhibit a failed server is removed, its slots with it")
    }

    func testInhibitOnFailureOfEveryRealServerSetsTheService() {
        XCTAssertEqual(service(virtualServer("", realServer: "inhibit_on_failure yes"))?.inhibitOnFailure, true)
    }

    func testPersistenceTimeoutZeroMeansNone() {
        let text = virtualServer("    persistence_timeout 0")
        XCTAssertNil(service(text)?.persistence)
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:5: warning: persistence_timeout: \"0\": 0 means no persistence; keepalived 2.2.7 reports it as outside 1-2678400 and ignores the line, with the same result"
            ))
    }

    func testGranularityWithoutTimeoutUsesKeepalivedsSixMinutes() {
        XCTAssertEqual(
            service(virtualServer("    persistence_granularity 255.255.255.0"))?.persistence,
            Persistence(timeout: 360, netmask: IPv4Address(255, 255, 255, 0)))
    }

    func testProtocolIsReadInAnyCase() {
        XCTAssertEqual(
            service(virtualServer("").replacingOccurrences(of: "protocol TCP", with: "protocol sctp"))?.listener,
            .port(.sctp, 80))
    }

    func testMissingProtocolSchedulerAndForwardingTakeKeepalivedsDefaultsWithWarnings() {
        let text = "virtual_server 198.18.0.100 53 {\n real_server 198.18.0.11 53 {\n TCP_CHECK {\n }\n }\n}\n"
        let imported = service(text)
        XCTAssertEqual(imported?.listener, .port(.udp, 53))
        XCTAssertEqual(imported?.scheduler, "wlc")
        XCTAssertEqual(imported?.forwarding, .nat)
        XCTAssertEqual(warnings(text).filter { $0.hasPrefix("keepalived.conf:1:") }.count, 3)
    }

    func testSchedulerFlagBeforeLbAlgoIsIgnoredAsKeepalivedIgnoresIt() {
        XCTAssertEqual(service(virtualServer("    lb_algo sh\n    sh-port"))?.schedulerFlags, ["sh-port"])
        XCTAssertEqual(service(virtualServer("    sh-port\n    lb_algo sh"))?.schedulerFlags, [])
    }

    func testRealServerPortOtherThanTheServicesIsResetUnderDRWhileItsCheckKeepsIt() {
        let text = virtualServer("").replacingOccurrences(
            of: "real_server 198.18.0.11 80", with: "real_server 198.18.0.11 8080")
        let server = service(text)?.realServers.first
        XCTAssertEqual(server?.port, 80)
        XCTAssertEqual(server?.check?.connectPort, 8080)
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:6: warning: real_server: \"8080\": IPVS cannot change the port with DR or TUN forwarding; keepalived resets it to the service's 80, and so does the import (its check keeps port 8080)"
            ))
    }

    func testFwmarkRealServerPortIsClearedWhileItsCheckKeepsIt() throws {
        let text = fwmarkService.replacingOccurrences(
            of: "real_server 198.18.0.11 {", with: "real_server 198.18.0.11 443 {"
        )
        .replacingOccurrences(of: " connect_port 80\n", with: "")
        let server = try importText(text, fwmarkVIP: IPv4Address(198, 18, 0, 100)).config.vips.first?.services.first?
            .realServers.first
        XCTAssertNil(server?.port)
        XCTAssertEqual(server?.check?.connectPort, 443)
    }

    func testRealServerWithoutAPortIsWarnedThatKeepalivedChecksPortZero() {
        let text = virtualServer("").replacingOccurrences(
            of: "real_server 198.18.0.11 80", with: "real_server 198.18.0.11")
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:6: warning: real_server: names no port: keepalived's check connects to port 0 and always fails; ecmpd checks the service's port 80"
            ))
    }

    func testHysteresisNotBelowTheQuorumIsLoweredAsKeepalivedLowersIt() {
        let text = virtualServer("    quorum 3\n    hysteresis 3")
        XCTAssertEqual(service(text)?.hysteresis, 2)
        XCTAssertEqual(service(text)?.quorum, 3)
    }

    func testHASuspendOnAFwmarkServiceIsIgnoredAsKeepalivedClearsIt() throws {
        let result = try importText(
            fwmarkService.replacingOccurrences(of: " lb_algo rr\n", with: " lb_algo rr\n ha_suspend\n"),
            fwmarkVIP: IPv4Address(198, 18, 0, 100))
        XCTAssertEqual(result.haSuspend, [])
    }

    // MARK: Errors

    func testAReservedIPv6VirtualServerIsAnErrorWithItsLine() {
        XCTAssertEqual(
            errors("\nvirtual_server fe80::10 80 {\n lb_kind DR\n}\n").count, 1)
        XCTAssertTrue(
            errors("\nvirtual_server fe80::10 80 {\n lb_kind DR\n}\n")[0].hasPrefix(
                "keepalived.conf:2: error: virtual_server: \"fe80::10\": "))
    }

    func testIPFamilyMustMatchTheAddress() {
        XCTAssertEqual(
            errors(virtualServer(" ip_family inet6\n")).filter { $0.contains("ip_family") },
            [
                "keepalived.conf:5: error: ip_family: \"inet6\": does not match the virtual server's address 198.18.0.100 (inet)"
            ])
    }

    private let inet6Fwmark =
        "virtual_server fwmark 7 {\n lb_algo rr\n lb_kind DR\n ip_family inet6\n real_server 2001:db8::11 {\n  TCP_CHECK {\n   connect_port 443\n  }\n }\n}\n"

    func testAnInet6FwmarkServiceGoesUnderTheIPv6FwmarkVIP() throws {
        let config = try importText(
            inet6Fwmark + virtualServer(""), fwmarkVIP6: IPAddress("2001:db8::100")
        ).config
        XCTAssertEqual(config.vips.map(\.address), [IPAddress("2001:db8::100")!, IPAddress("198.18.0.100")!])
        XCTAssertEqual(config.vips[0].services.map(\.listener), [.fwmark(7)])
        XCTAssertEqual(config.vips[0].services[0].realServers.map(\.address), [IPAddress("2001:db8::11")!])
        XCTAssertNotNil(config.ospf6)
    }

    func testAnInet6FwmarkServiceWithoutAnIPv6FwmarkVIPIsAnError() {
        XCTAssertEqual(
            errors(inet6Fwmark, fwmarkVIP: IPv4Address(198, 18, 0, 100)),
            [
                "keepalived.conf:1: error: virtual_server: keepalived gives fwmark services no address; name the IPv6 VIP these inet6 packets are for (--fwmark-vip6 ADDRESS)"
            ])
    }

    /// keepalived's IPv6 group lines: an address, or a range over the last
    /// 16-bit group in hexadecimal (check_parser.c reads the end with base
    /// 16 for an address with a colon); each becomes a VIP with the group's
    /// service.
    func testIPv6AddressesAndRangesInAGroupBecomeVIPs() throws {
        let text = """
            virtual_server_group G {
             2001:db8::10 80
             2001:db8::fe-101 80
            }
            virtual_server group G {
             lb_algo rr
             lb_kind DR
             protocol TCP
             real_server 2001:db8::21 80 {
             }
            }
            """
        let config = try importText(text).config
        XCTAssertEqual(
            config.vips.map(\.address.description),
            ["2001:db8::10", "2001:db8::fe", "2001:db8::ff", "2001:db8::100", "2001:db8::101"])
        let vip = try XCTUnwrap(config.vips.first { $0.address == IPAddress("2001:db8::ff") })
        XCTAssertEqual(vip.services.map(\.listener), [.port(.tcp, 80)])
        XCTAssertEqual(vip.services[0].realServers.map(\.address), [IPAddress("2001:db8::21")!])
        XCTAssertNotNil(config.ospf6, "IPv6 VIPs bring an ospf6 section")
    }

    func testBadIPv6GroupRangesAreErrorsNamingTheLine() {
        func groupErrors(_ line: String) -> [String] {
            errors("virtual_server_group G {\n \(line) 80\n}\n").filter { $0.contains("virtual_server_group:") }
        }
        XCTAssertEqual(
            groupErrors("2001:db8::10-f"),
            [
                "keepalived.conf:2: error: virtual_server_group: \"2001:db8::10-f\": the range end must be a last 16-bit group in hexadecimal from 10 to 10f (at most 256 addresses; keepalived's form with a whole end address is not imported)"
            ])
        XCTAssertEqual(groupErrors("2001:db8::10-2000").count, 1, "more than 256 addresses from one line")
        XCTAssertEqual(groupErrors("2001:db8::10-2001:db8::20").count, 1, "the whole-end-address form")
        XCTAssertEqual(groupErrors("2001:db8::10-1g").count, 1, "not hexadecimal")
        let linkLocal = groupErrors("fe80::1")
        XCTAssertEqual(linkLocal.count, 1, "a link-local VIP is refused as everywhere else")
        XCTAssertTrue(linkLocal.first?.contains("link-local") == true, "\(linkLocal)")
    }

    func testAnIPv4RealServerBehindAnIPv6VIPNeedsTunnelForwardingAndPersistenceHasNoNetmask() {
        let ipv6 =
            "virtual_server 2001:db8::10 80 {\n lb_algo rr\n lb_kind DR\n protocol TCP\n real_server 198.18.0.11 80 {\n }\n}\n"
        XCTAssertEqual(
            errors(ipv6),
            [
                "keepalived.conf:5: error: real_server: \"198.18.0.11\": an IPv4 real server behind an IPv6 VIP needs lb_kind TUN; keepalived skips it"
            ])
        let granular = ipv6.replacingOccurrences(of: "198.18.0.11", with: "2001:db8::11")
            .replacingOccurrences(
                of: " protocol TCP\n", with: " protocol TCP\n persistence_granularity 255.255.255.0\n")
        XCTAssertEqual(
            errors(granular),
            [
                "keepalived.conf:1: error: persistence_granularity: an IPv6 service's persistence has no netmask in ecmpd (IPv4 services only); remove it"
            ])
    }

    func testIPv6RealServerBehindAnIPv4VIPNeedsTunnelForwarding() {
        XCTAssertEqual(
            errors(
                virtualServer("").replacingOccurrences(
                    of: "real_server 198.18.0.11 80", with: "real_server 2001:db8::11 80")),
            [
                "keepalived.conf:6: error: real_server: \"2001:db8::11\": an IPv6 real server behind an IPv4 VIP needs lb_kind TUN; keepalived skips it"
            ])
    }

    func testRelativeMiscPathIsAnError() {
        XCTAssertEqual(
            errors(virtualServer("", realServer: "MISC_CHECK {\n misc_path \"check-web --fast\"\n }")),
            [
                "keepalived.conf:8: error: misc_path: \"check-web\": ecmpd runs checks without a shell or PATH search: give the program's absolute path"
            ])
    }

    func testNoVirtualServerIsAnError() {
        XCTAssertEqual(
            errors("global_defs {\n router_id X\n}\n"),
            ["keepalived.conf:1: error: no virtual_server found: nothing to import"])
    }

    func testSecondVirtualServerForTheSameAddressAndPortIsAnError() {
        XCTAssertEqual(
            errors(virtualServer("") + virtualServer("")),
            [
                "keepalived.conf:11: error: virtual_server: \"198.18.0.100 tcp/80\": a second virtual_server for this VIP and tcp/80 (the first is at keepalived.conf:1)"
            ])
    }

    func testUnclosedBlockIsAnError() {
        XCTAssertEqual(
            errors(virtualServer("").dropLast(2) + "\n"),
            [
                "keepalived.conf:1: error: this '{' is never closed; every block after it would be read as part of it"
            ])
    }

    func testExtraClosingBraceIsAnError() {
        XCTAssertEqual(
            errors(virtualServer("") + "}\n"), ["keepalived.conf:11: error: extra '}': no block is open here"])
    }

    // MARK: fwmark services

    private let fwmarkService =
        "virtual_server fwmark 7 {\n lb_algo rr\n lb_kind DR\n real_server 198.18.0.11 {\n TCP_CHECK {\n connect_port 80\n }\n }\n}\n"

    private func vrrpInstance(_ addresses: String...) -> String {
        "vrrp_instance VI_1 {\n virtual_ipaddress {\n" + addresses.map { " \($0)\n" }.joined() + " }\n}\n"
    }

    func testFwmarkServiceTakesTheVIPOfTheOnlyVRRPAddress() throws {
        let result = try importText(vrrpInstance("198.18.0.100/24 dev eth0") + fwmarkService)
        XCTAssertEqual(result.config.vips.map(\.address), [.v4(IPv4Address(198, 18, 0, 100))])
        XCTAssertEqual(result.config.vips.first?.services.first?.listener, .fwmark(7))
        XCTAssertTrue(
            result.warnings.map(\.description).contains(
                "keepalived.conf:6: warning: virtual_server: \"198.18.0.100\": keepalived gives fwmark services no address; imported under VIP 198.18.0.100, the virtual_ipaddress of vrrp_instance VI_1 (keepalived.conf:3)"
            ))
    }

    func testFwmarkServiceWithoutAnyVRRPAddressAsksForTheVIP() {
        XCTAssertEqual(
            errors(fwmarkService),
            [
                "keepalived.conf:1: error: virtual_server: keepalived gives fwmark services no address, and this config has no VRRP virtual_ipaddress to take one from; name the VIP these packets are for (--fwmark-vip ADDRESS)"
            ])
    }

    func testFwmarkServiceWithSeveralVRRPAddressesAsksWhichOne() {
        XCTAssertEqual(
            errors(vrrpInstance("198.18.0.100", "198.18.0.101") + fwmarkService),
            [
                "keepalived.conf:7: error: virtual_server: keepalived gives fwmark services no address, and this config's VRRP instances list several (198.18.0.100, 198.18.0.101); name the VIP these packets are for (--fwmark-vip ADDRESS)"
            ])
    }

    func testFwmarkVIPGivenByTheCallerWins() throws {
        let result = try importText(
            vrrpInstance("198.18.0.100", "198.18.0.101") + fwmarkService, fwmarkVIP: IPv4Address(198, 18, 0, 101))
        XCTAssertEqual(result.config.vips.map(\.address), [.v4(IPv4Address(198, 18, 0, 101))])
    }

    func testFwmarkVIPGivenByTheCallerMustBeUsableAsAVIP() {
        XCTAssertEqual(
            errors(fwmarkService, fwmarkVIP: IPv4Address(127, 0, 0, 1)),
            [
                "keepalived.conf:1: error: virtual_server: \"127.0.0.1\": the VIP given for fwmark services is in "
                    + "127.0.0.0/8, loopback (RFC 1122): it never leaves a host; "
                    + "a VIP must be a unicast address that routers forward"
            ])
        XCTAssertEqual(errors(fwmarkService, fwmarkVIP: IPv4Address(169, 254, 1, 1)).count, 1)
    }

    func testFwmarkServiceJoinsTheVIPOfAnAddressService() throws {
        let result = try importText(vrrpInstance("198.18.0.100") + virtualServer("") + fwmarkService)
        XCTAssertEqual(result.config.vips.count, 1)
        XCTAssertEqual(result.config.vips.first?.services.map(\.listener), [.port(.tcp, 80), .fwmark(7)])
    }

    // MARK: Lexing

    func testCommentsAfterValuesAndBracesAreIgnored() {
        let text =
            "virtual_server 198.18.0.100 80 {# brace comment\n lb_kind DR ! bang comment\n protocol TCP # hash\n delay_loop 4#tight\n real_server 198.18.0.11 80 {!\n TCP_CHECK {#\n }\n }\n}\n"
        XCTAssertEqual(check(text)?.interval, .seconds(4))
        XCTAssertEqual(service(text)?.forwarding, .directRoute)
    }

    func testHashInsideQuotesIsNotAComment() {
        guard
            case .http(let http)? = check(virtualServer("", realServer: "HTTP_GET {\n url {\n path \"/a#b\"\n }\n }"))?
                .kind
        else {
            return XCTFail("not an HTTP check")
        }
        XCTAssertEqual(http.path, "/a#b")
    }

    func testBlocksOnOneLineAndBracesGluedToKeywordsRead() {
        let text =
            "virtual_server 198.18.0.100 80 { lb_kind DR\nprotocol TCP\nreal_server 198.18.0.11 80 { weight 3\nTCP_CHECK{ connect_timeout 2 } }\n}\n"
        XCTAssertEqual(check(text)?.timeout, .seconds(2))
        XCTAssertEqual(service(text)?.realServers.first?.weight, 3)
    }

    func testCarriageReturnLineEndingsRead() {
        XCTAssertEqual(
            check(virtualServer("    delay_loop 8").replacingOccurrences(of: "\n", with: "\r\n"))?.interval, .seconds(8)
        )
    }

    func testConditionalLinesFollowTheConfigID() throws {
        let text = virtualServer("    @lvs1 delay_loop 11\n    @^lvs1 delay_loop 22")
        XCTAssertEqual(
            try importText(text, configID: "lvs1").config.vips[0].services[0].realServers[0].check?.interval,
            .seconds(11))
        XCTAssertEqual(
            try importText(text, configID: "lvs2").config.vips[0].services[0].realServers[0].check?.interval,
            .seconds(22))
    }

    func testDefinitionsExpandOnlyWhereKeepalivedExpandsThem() {
        XCTAssertEqual(check("$DELAY=13\n" + virtualServer("    delay_loop $DELAY"))?.interval, .seconds(13))
        XCTAssertEqual(check("$D=1\n" + virtualServer("    delay_loop ${D}4"))?.interval, .seconds(14))
    }

    // MARK: Includes

    func testIncludeIsResolvedFromTheIncludingFilesDirectory() throws {
        let result = try KeepalivedImporter.importConfig(
            text: "include services/*.conf\n", file: "/etc/keepalived/keepalived.conf"
        ) { path in
            XCTAssertEqual(path, "/etc/keepalived/services/*.conf")
            return [("/etc/keepalived/services/web.conf", virtualServer(""))]
        }
        XCTAssertEqual(result.config.vips.count, 1)
    }

    func testProblemsInAnIncludedFileNameThatFileAndLine() {
        let found = errors("include web.conf\n", includes: ["web.conf": "\n\nvirtual_server 198.18.0.100 0 {\n}\n"])
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(
            found[0].hasPrefix("web.conf:3: error: virtual_server: \"0\": ecmpd services need a port"), found[0])
    }

    func testIncludeMatchingNothingIsAWarning() {
        XCTAssertTrue(
            warnings("include missing/*.conf\n" + virtualServer("")).contains(
                "keepalived.conf:1: warning: include: \"missing/*.conf\": matches no file; nothing included"))
    }

    func testIncludeLoopIsAnError() {
        XCTAssertEqual(
            errors(
                "include keepalived.conf\n" + virtualServer(""),
                includes: ["keepalived.conf": "include keepalived.conf\n"]),
            [
                "keepalived.conf:1: error: include: \"keepalived.conf\": includes a file that is already being read (an include loop)"
            ])
    }

    // MARK: MISC_CHECK commands

    func testMiscPathIsSplitIntoArgvWithoutAShell() {
        let text = virtualServer("", realServer: "MISC_CHECK {\n misc_path \"/usr/lib/check --name 'a b' x\\\\ y\"\n }")
        XCTAssertEqual(check(text)?.kind, .exec(argv: ["/usr/lib/check", "--name", "a b", "x y"]))
    }

    func testMiscPathThatLooksLikeShellSyntaxIsWarned() {
        let text = virtualServer(
            "", realServer: "MISC_CHECK {\n misc_path \"/usr/bin/curl -s http://localhost/ | grep -q OK\"\n }")
        XCTAssertTrue(
            warnings(text).contains(
                "keepalived.conf:8: warning: misc_path: \"|\": looks like shell syntax, but ecmpd runs 7 words without a shell (as keepalived does for an executable script); write misc_path \"/bin/sh -c '...'\" if a shell is meant"
            ))
    }

    func testMiscPathWordsAfterTheFirstAreDroppedAsKeepalivedDropsThem() {
        let text = virtualServer("", realServer: "MISC_CHECK {\n misc_path /usr/lib/check --fast\n }")
        XCTAssertEqual(check(text)?.kind, .exec(argv: ["/usr/lib/check"]))
        XCTAssertTrue(
            warnings(text).contains {
                $0.hasPrefix(
                    "keepalived.conf:8: warning: misc_path: \"--fast\": keepalived runs only the first word after misc_path"
                )
            })
    }
}
