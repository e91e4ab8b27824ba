/// One step of an IPVS reconcile plan; each maps to one kernel request.
/// Adds and edits carry the complete desired object, because the kernel
/// wants every setting on NEW and SET; `changed` says which ones differ,
/// for the event log.
public enum IPVSChange: Hashable, Sendable, CustomStringConvertible {
    case addService(IPVSService)
    case editService(IPVSService, changed: IPVSService.Settings)
    case deleteService(IPVSServiceIdentity)
    case addDestination(IPVSDestination, service: IPVSServiceIdentity)
    case editDestination(IPVSDestination, service: IPVSServiceIdentity, changed: IPVSDestination.Settings)
    case deleteDestination(IPVSDestinationKey, service: IPVSServiceIdentity)

    /// The service the step acts on or in.
    public var service: IPVSServiceIdentity {
        switch self {
        case .addService(let service), .editService(let service, _): return service.identity
        case .deleteService(let identity): return identity
        case .addDestination(_, let service), .editDestination(_, let service, _), .deleteDestination(_, let service):
            return service
        }
    }

    /// A short fixed name for metrics and logs: add-service, edit-destination, ...
    public var operation: String {
        switch self {
        case .addService: return "add-service"
        case .editService: return "edit-service"
        case .deleteService: return "delete-service"
        case .addDestination: return "add-destination"
        case .editDestination: return "edit-destination"
        case .deleteDestination: return "delete-destination"
        }
    }

    public var description: String {
        switch self {
        case .addService(let service): return "add service \(service)"
        case .editService(let service, let changed):
            return "edit service \(service.identity): \(Self.describe(changed, of: service))"
        case .deleteService(let identity): return "delete service \(identity)"
        case .addDestination(let destination, let service): return "add destination \(destination) to \(service)"
        case .editDestination(let destination, let service, let changed):
            return "edit destination \(destination.key) of \(service): \(Self.describe(changed, of: destination))"
        case .deleteDestination(let key, let service): return "delete destination \(key) from \(service)"
        }
    }

    private static func describe(_ changed: IPVSService.Settings, of service: IPVSService) -> String {
        var parts: [String] = []
        if changed.contains(.scheduler) { parts.append("scheduler \(service.scheduler)") }
        if changed.contains(.flags) { parts.append("flags \(service.flags.configured)") }
        if changed.contains(.persistenceTimeout) { parts.append("persistence timeout \(service.persistenceTimeout)s") }
        if changed.contains(.netmask) { parts.append("netmask \(service.netmask)") }
        return parts.joined(separator: ", ")
    }

    private static func describe(_ changed: IPVSDestination.Settings, of destination: IPVSDestination) -> String {
        var parts: [String] = []
        if changed.contains(.forwarding) { parts.append("forwarding \(destination.forwarding)") }
        if changed.contains(.weight) { parts.append("weight \(destination.weight)") }
        if changed.contains(.upperThreshold) { parts.append("upper threshold \(destination.upperThreshold)") }
        if changed.contains(.lowerThreshold) { parts.append("lower threshold \(destination.lowerThreshold)") }
        return parts.joined(separator: ", ")
    }
}
