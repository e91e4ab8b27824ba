import CNetlink

/// The attributes of one received generic netlink message (or of a nested
/// attribute), indexed by type. Only valid inside the reply callback that
/// produced it: the pointers point into libnl's receive buffer, so values
/// are copied out before the callback returns.
///
/// Reads check each attribute's length instead of trusting a libnl policy,
/// so a kernel that sends a shorter or longer field than expected yields nil
/// rather than a misread.
struct GenericNetlinkAttributes {
    private var slots: [UnsafeMutablePointer<nlattr>?]

    init?(message header: UnsafeMutablePointer<nlmsghdr>, maxType: Int) {
        var slots = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: maxType + 1)
        let status = slots.withUnsafeMutableBufferPointer {
            genlmsg_parse(header, 0, $0.baseAddress, Int32(maxType), nil)
        }
        guard status == 0 else { return nil }
        self.slots = slots
    }

    private init?(nested attribute: UnsafeMutablePointer<nlattr>, maxType: Int) {
        var slots = [UnsafeMutablePointer<nlattr>?](repeating: nil, count: maxType + 1)
        let status = slots.withUnsafeMutableBufferPointer {
            nla_parse_nested($0.baseAddress, Int32(maxType), attribute, nil)
        }
        guard status == 0 else { return nil }
        self.slots = slots
    }

    func has(_ type: Int) -> Bool { attribute(type) != nil }

    func nested(_ type: Int, maxType: Int) -> GenericNetlinkAttributes? {
        attribute(type).flatMap { GenericNetlinkAttributes(nested: $0, maxType: maxType) }
    }

    func u16(_ type: Int) -> UInt16? { fixed(type, as: UInt16.self) }

    func u32(_ type: Int) -> UInt32? { fixed(type, as: UInt32.self) }

    func u64(_ type: Int) -> UInt64? { fixed(type, as: UInt64.self) }

    /// A counter the kernel sends as u32 in one attribute set and u64 in
    /// another (IPVS_STATS_ATTR_* inside STATS and STATS64).
    func counter(_ type: Int) -> UInt64? {
        u64(type) ?? u32(type).map(UInt64.init)
    }

    func bytes(_ type: Int) -> [UInt8]? {
        guard let attribute = attribute(type) else { return nil }
        let length = Int(nla_len(attribute))
        guard length > 0, let data = nla_data(attribute) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    /// A string attribute up to its first NUL.
    func string(_ type: Int) -> String? {
        guard let bytes = bytes(type) else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private func attribute(_ type: Int) -> UnsafeMutablePointer<nlattr>? {
        slots.indices.contains(type) ? slots[type] : nil
    }

    private func fixed<Value: FixedWidthInteger>(_ type: Int, as: Value.Type) -> Value? {
        guard let attribute = attribute(type), Int(nla_len(attribute)) == MemoryLayout<Value>.size,
            let data = nla_data(attribute)
        else { return nil }
        return data.loadUnaligned(as: Value.self)
    }
}
