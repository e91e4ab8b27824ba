import ECMPCore
import XCTest

final class IPVSRestoreRulesTests: XCTestCase {
    func testRendersIpvsadmSaveLinesInCanonicalOrder() {
        let vip = IPAddress("198.18.0.1")!
        let table = IPVSTable([
            .init(IPVSService(.fwmark(8, family: .ipv6), scheduler: "rr")),
            .init(
                IPVSService(
                    .udp(vip, port: 53), scheduler: "wrr", flags: [.persistent, .onePacket],
                    persistenceTimeout: 60, netmask: .ipv4(IPv4Address(255, 255, 255, 0))),
                destinations: [
                    IPVSDestination(IPAddress("198.18.1.2")!, port: 53, forwarding: .tunnel, weight: 2)
                ]),
            .init(
                IPVSService(.tcp(vip, port: 80), scheduler: "mh", flags: [.mhFallback, .mhPort, .hashed]),
                destinations: [
                    IPVSDestination(
                        IPAddress("198.18.1.2")!, port: 80, weight: 3, upperThreshold: 100, lowerThreshold: 10),
                    IPVSDestination(IPAddress("198.18.1.1")!, port: 80, forwarding: .masquerade, weight: 0),
                ]),
            .init(IPVSService(.sctp(IPAddress("2001:db8::1")!, port: 9), scheduler: "rr", flags: .sched3)),
        ])
        XCTAssertEqual(
            IPVSRestoreRules.render(table),
            """
            -A -t 198.18.0.1:80 -s mh -b mh-fallback,mh-port
            -a -t 198.18.0.1:80 -r 198.18.1.1:80 -m -w 0
            -a -t 198.18.0.1:80 -r 198.18.1.2:80 -g -w 3 -x 100 -y 10
            -A -u 198.18.0.1:53 -s wrr -p 60 -M 255.255.255.0 -o
            -a -u 198.18.0.1:53 -r 198.18.1.2:53 -i -w 2 --tun-type ipip
            -A --sctp-service [2001:db8::1]:9 -s rr -b flag-3
            -A -f 8 -6 -s rr

            """)
    }
}
