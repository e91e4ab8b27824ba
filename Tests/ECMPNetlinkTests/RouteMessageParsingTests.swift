import CNetlink
import ECMPCore
import Glibc
import XCTest

@testable import ECMPNetlink

/// The parsing of the kernel's replies that `RouteReader` reads, on messages
/// built here as the kernel sends them (rtnetlink's wire format, host byte
/// order): an IPv6 route with RTA_MULTIPATH over link-local gateways and an
/// RTA_NH_ID, and nexthop objects with a 16-byte gateway or a group. The
/// same exchange with a real kernel and FRR runs in the namespace tier
/// (NamespaceTests.OSPF6RoutingTests).
final class RouteMessageParsingTests: XCTestCase {
    let vip = IPv6Address("2001:db8:ffff::10")!
    let first = IPv6Address("fe80::d0bb:e7ff:fefd:4ef1")!
    let second = IPv6Address("fe80::f075:5aff:fe8b:f0a5")!

    /// A netlink message of `type` with the fixed header `header` and the
    /// attributes `attributes` puts; `body` reads it while it is alive.
    func message<Header, Result>(
        type: Int32, header: Header, attributes: (OpaquePointer) -> Void,
        _ body: (UnsafeMutablePointer<nlmsghdr>) -> Result
    ) throws -> Result {
        let message = try XCTUnwrap(nlmsg_alloc_simple(type, 0))
        defer { nlmsg_free(message) }
        var fixed = header
        let appended = withUnsafeMutableBytes(of: &fixed) {
            nlmsg_append(message, $0.baseAddress, $0.count, Int32(NLMSG_ALIGNTO))
        }
        XCTAssertEqual(appended, 0)
        attributes(message)
        return body(try XCTUnwrap(nlmsg_hdr(message)))
    }

    func put(_ message: OpaquePointer, _ type: Int32, _ bytes: [UInt8]) {
        XCTAssertEqual(bytes.withUnsafeBytes { nla_put(message, type, Int32($0.count), $0.baseAddress) }, 0)
    }

    func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
    func u16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// One struct rtnexthop (length, flags, hops, ifindex) with an
    /// RTA_GATEWAY attribute of 16 bytes.
    func rtnexthop(interfaceIndex: Int32, gateway: IPv6Address) -> [UInt8] {
        let attribute = u16(4 + 16) + u16(UInt16(RTA_GATEWAY.rawValue)) + gateway.bytes
        return u16(UInt16(8 + attribute.count)) + [0, 0] + withUnsafeBytes(of: interfaceIndex) { Array($0) }
            + attribute
    }

    func routeHeader() -> rtmsg {
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET6)
        header.rtm_dst_len = 128
        header.rtm_table = UInt8(RT_TABLE_MAIN.rawValue)
        header.rtm_protocol = UInt8(RTPROT_OSPF)
        header.rtm_type = UInt8(RTN_UNICAST)
        return header
    }

    func testAnIPv6MultipathRouteGivesEveryLinkLocalGatewayWithItsInterface() throws {
        let parsed = try message(
            type: Int32(RTM_NEWROUTE), header: routeHeader(),
            attributes: { message in
                put(message, Int32(RTA_DST.rawValue), vip.bytes)
                put(message, Int32(RTA_PRIORITY.rawValue), u32(20))
                put(message, Int32(RTA_NH_ID.rawValue), u32(20))
                put(
                    message, Int32(RTA_MULTIPATH.rawValue),
                    rtnexthop(interfaceIndex: 7, gateway: first) + rtnexthop(interfaceIndex: 5, gateway: second))
            }, { RouteQuerySocket.routeMessage($0, family: AF_INET6) })
        let route = try XCTUnwrap(parsed)
        XCTAssertEqual(route.prefix, PrefixedAddress(address: .v6(vip), prefixLength: 128))
        XCTAssertEqual(route.protocolName, "ospf")
        XCTAssertEqual(route.typeName, "unicast")
        XCTAssertEqual(route.metric, 20)
        XCTAssertEqual(route.table, UInt32(RT_TABLE_MAIN.rawValue))
        XCTAssertEqual(route.nexthopObjectID, 20)
        XCTAssertEqual(route.nexthops.map { $0.gateway }, [IPAddress.v6(first), IPAddress.v6(second)])
        XCTAssertEqual(route.nexthops.map { $0.interfaceIndex }, [7, 5])
    }

    func testAnIPv6RouteThroughANexthopObjectAloneCarriesOnlyItsID() throws {
        // nexthop_compat_mode=0: RTA_NH_ID and no copy of the paths.
        let parsed = try message(
            type: Int32(RTM_NEWROUTE), header: routeHeader(),
            attributes: { message in
                put(message, Int32(RTA_DST.rawValue), vip.bytes)
                put(message, Int32(RTA_NH_ID.rawValue), u32(21))
            }, { RouteQuerySocket.routeMessage($0, family: AF_INET6) })
        let route = try XCTUnwrap(parsed)
        XCTAssertEqual(route.nexthopObjectID, 21)
        XCTAssertTrue(route.nexthops.isEmpty)
    }

    func testARouteOfTheOtherFamilyIsNotRead() throws {
        let parsed = try message(
            type: Int32(RTM_NEWROUTE), header: routeHeader(),
            attributes: { put($0, Int32(RTA_DST.rawValue), vip.bytes) },
            { RouteQuerySocket.routeMessage($0, family: AF_INET) })
        XCTAssertNil(parsed)
    }

    func nexthopHeader() -> nhmsg {
        var header = nhmsg()
        header.nh_family = UInt8(AF_INET6)
        return header
    }

    func testANexthopObjectWithALinkLocalGatewayKeepsItsInterface() throws {
        let parsed = try message(
            type: Int32(RTM_NEWNEXTHOP), header: nexthopHeader(),
            attributes: { message in
                put(message, Int32(NHA_ID), u32(14))
                put(message, Int32(NHA_OIF), u32(7))
                put(message, Int32(NHA_GATEWAY), first.bytes)
            }, { RouteQuerySocket.nexthopObject($0) })
        let object = try XCTUnwrap(parsed)
        XCTAssertEqual(object.id, 14)
        guard case .path(let gateway, let interfaceIndex) = object.kind else {
            return XCTFail("not a path: \(object.kind)")
        }
        XCTAssertEqual(gateway, IPAddress.v6(first))
        XCTAssertEqual(interfaceIndex, 7)
    }

    func testANexthopGroupListsItsMembers() throws {
        // struct nexthop_grp: u32 id, u8 weight, u8 resvd1, u16 resvd2.
        let parsed = try message(
            type: Int32(RTM_NEWNEXTHOP), header: nexthopHeader(),
            attributes: { message in
                put(message, Int32(NHA_ID), u32(20))
                put(message, Int32(NHA_GROUP), u32(14) + [0, 0, 0, 0] + u32(21) + [0, 0, 0, 0])
            }, { RouteQuerySocket.nexthopObject($0) })
        let object = try XCTUnwrap(parsed)
        guard case .group(let members) = object.kind else { return XCTFail("not a group: \(object.kind)") }
        XCTAssertEqual(members, [14, 21])
    }

    func testAGatewayOfAnotherLengthIsUnreadable() throws {
        let parsed = try message(
            type: Int32(RTM_NEWNEXTHOP), header: nexthopHeader(),
            attributes: { message in
                put(message, Int32(NHA_ID), u32(14))
                put(message, Int32(NHA_OIF), u32(7))
                put(message, Int32(NHA_GATEWAY), [1, 2, 3, 4, 5, 6])
            }, { RouteQuerySocket.nexthopObject($0) })
        XCTAssertNil(parsed)
    }
}
