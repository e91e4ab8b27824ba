import XCTest
@testable import ECMPCore

final class ConfigEmitterTests: XCTestCase {
    private func roundTrip(_ config: Config, file: StaticString = #filePath, line: UInt = #line) {
        let yaml = ConfigEmitter.yaml(config)
        do {
            let loaded = try ConfigParser.parse(yaml, file: "emitted.yaml")
            XCTAssertEqual(loaded.config, config, "read back differently:\n\(yaml)", file: file, line: line)
        } catch {
            XCTFail("emitted YAML does not parse: \(error)\n\(yaml)", file: file, line: line)
        }
    }

    private var web: VIPConfig {
        VIPConfig(
            address: IPv4Address(198, 18, 0, 100),
            services: [
                VirtualService(
                    listener: .port(.tcp, 80),
                    realServers: [
                        RealServer(address: .v4(IPv4Address(198, 18, 0, 11)), check: HealthCheck(kind: .tcp))
                    ])
            ])
    }

    func testMinimalConfigRoundTrips() {
        roundTrip(Config(vips: [web]))
    }

    func testMinimalConfigWritesOnlyModeAndWhatDescribesTheService() {
        let yaml = ConfigEmitter.yaml(Config(vips: [web]))
        XCTAssertEqual(
            yaml,
            """
            mode: observe
            vips:
            - address: 198.18.0.100
              services:
              - protocol: tcp
                port: 80
                scheduler: wlc
                forwarding: dr
                real_servers:
                - address: 198.18.0.11
                  check:
                    type: tcp
                    interval: 5s
                    timeout: 3s
                    rise: 1
                    fall: 1
                    retries: 1
                    retry_delay: 1s

            """)
    }

    func testEverySettingAwayFromItsDefaultRoundTrips() {
        var config = Config(mode: .managed)
        config.node = NodeSettings(hostname: "director-1", stateDirectory: "/srv/ecmpd")
        config.ospf = OSPFSettings(
            area: OSPFArea(7), interfaces: .named(["eth0", "eth1.100"]), helloInterval: 2, deadInterval: 8, priority: 1,
            cost: 20, loopbackCost: 30, routerID: IPv4Address(198, 18, 0, 2),
            authentication: OSPFAuthentication(keyID: 3, keyFile: "/etc/ecmpd/ospf.key"), fastConvergence: false
        )
        config.routing = RoutingDaemonSettings(
            flavour: .frr, configDirectory: "/etc/frr/lab", user: "frrlab", group: "frrvty",
            vtysh: "/usr/local/bin/vtysh",
            reload: .command(["/usr/local/sbin/reload-frr", "{daemon}", "{file}"]), backups: 9, pathspace: "lab1",
            templatesDirectory: "/etc/ecmpd/templates"
        )
        config.status = StatusSettings(listen: "127.0.0.1:9999")
        let mixed = VIPConfig(
            address: IPv4Address(198, 18, 1, 10), name: "web and api",
            health: HealthPolicy(minimumHealthy: .percent(50), rise: 4, fall: 3, holdDown: .milliseconds(2500)),
            services: [
                VirtualService(
                    listener: .port(.udp, 53), scheduler: "mh", schedulerFlags: ["mh-port", "mh-fallback"],
                    persistence: Persistence(timeout: 600, netmask: IPv4Address(255, 255, 255, 0)), forwarding: .tunnel,
                    realServers: [
                        RealServer(
                            address: .v4(IPv4Address(198, 18, 1, 21)), port: 5353, weight: 0,
                            check: HealthCheck(
                                kind: .exec(argv: ["/usr/lib/ecmpd/check-dns", "--name", "example.net"]),
                                interval: .milliseconds(1500),
                                timeout: .milliseconds(700), rise: 2, fall: 3, retries: 4, retryDelay: .zero,
                                connectPort: 53)),
                        RealServer(address: IPAddress("2001:db8::21")!, weight: 7),
                    ],
                    quorum: 2, hysteresis: 1,
                    sorryServer: RealServerAddress(address: .v4(IPv4Address(198, 18, 1, 250)), port: 53),
                    inhibitOnFailure: true
                ),
                VirtualService(
                    listener: .fwmark(42), scheduler: "rr", persistence: Persistence(timeout: 30), forwarding: .nat,
                    realServers: [
                        RealServer(
                            address: .v4(IPv4Address(198, 18, 1, 22)),
                            check: HealthCheck(
                                kind: .http(
                                    HTTPCheck(
                                        path: "/health?full=1", statusCodes: [200, 204],
                                        digest: "9b3a0c85a887a256d6939da88aabd8cd",
                                        host: "www.example.net", tls: true, verifyCertificate: true)),
                                connectPort: 8443)),
                        RealServer(
                            address: .v4(IPv4Address(198, 18, 1, 23)), check: HealthCheck(kind: .http(HTTPCheck()))),
                    ],
                    sorryServer: RealServerAddress(address: .v4(IPv4Address(198, 18, 1, 251)))
                ),
            ]
        )
        config.vips = [web, mixed]
        roundTrip(config)
    }

    func testQuaggaFlavourWritesOnlyWhatDiffersFromQuaggaDefaults() {
        var config = Config(vips: [web])
        config.routing = RoutingDaemonSettings(
            flavour: .quagga, configDirectory: "/etc/quagga", user: "quagga", group: "quagga", reload: .none)
        let yaml = ConfigEmitter.yaml(config)
        XCTAssertTrue(yaml.hasPrefix("mode: observe\nrouting:\n  flavour: quagga\nvips:\n"), yaml)
        roundTrip(config)
    }

    func testQuaggaFlavourWithFRRReloadWritesTheReload() {
        var config = Config(vips: [web])
        config.routing = RoutingDaemonSettings(
            flavour: .quagga, configDirectory: "/etc/quagga", user: "quagga", group: "quagga", reload: .frrReload)
        XCTAssertTrue(ConfigEmitter.yaml(config).contains("  reload: frr-reload\n"))
        roundTrip(config)
    }

    func testNoReloadOnFRRRoundTrips() {
        var config = Config(vips: [web])
        config.routing.reload = .none
        roundTrip(config)
    }

    func testHeaderLinesBecomeCommentsAboveTheDocument() {
        let yaml = ConfigEmitter.yaml(Config(vips: [web]), header: ["Imported from keepalived.conf", "", "two\nlines"])
        XCTAssertTrue(yaml.hasPrefix("# Imported from keepalived.conf\n#\n# two\n# lines\nmode: observe\n"), yaml)
        roundTrip(Config(vips: [web]))
    }

    func testStringsThatReadAsOtherTypesAreQuoted() {
        var vip = web
        vip.name = "yes"
        var other = web
        other.address = .v4(IPv4Address(198, 18, 0, 101))
        other.name = "8080"
        let config = Config(vips: [vip, other])
        let yaml = ConfigEmitter.yaml(config)
        XCTAssertTrue(yaml.contains("name: \"yes\"\n"), yaml)
        XCTAssertTrue(yaml.contains("name: \"8080\"\n"), yaml)
        roundTrip(config)
    }

    func testPersistenceWithoutNetmaskIsWrittenAsSeconds() {
        var vip = web
        vip.services[0].persistence = Persistence(timeout: 300)
        XCTAssertTrue(ConfigEmitter.yaml(Config(vips: [vip])).contains("    persistence: 300\n"))
        roundTrip(Config(vips: [vip]))
    }

    func testSubSecondDurationsAreWrittenInMilliseconds() {
        var vip = web
        vip.services[0].realServers[0].check?.interval = .milliseconds(250)
        XCTAssertTrue(ConfigEmitter.yaml(Config(vips: [vip])).contains("interval: 250ms\n"))
        roundTrip(Config(vips: [vip]))
    }

    func testOutputIsTheSameEveryTime() {
        let config = Config(mode: .managed, vips: [web])
        XCTAssertEqual(ConfigEmitter.yaml(config), ConfigEmitter.yaml(config))
    }
}
