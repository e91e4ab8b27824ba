import Mustache

/// Renders zebra.conf and ospfd.conf from the templates in
/// quagga-templates/ with a real Mustache engine. The templates are handed
/// in as text (the edge reads them), so rendering is pure and testable.
public struct RoutingRenderer: Sendable {
    public struct Templates: Sendable {
        public var zebra: String
        public var ospfd: String
        public init(zebra: String, ospfd: String) {
            self.zebra = zebra
            self.ospfd = ospfd
        }
    }

    /// The OSPF message-digest key: the real one for files that get
    /// installed, a placeholder for anything shown to a person.
    public enum AuthenticationKey: Sendable {
        case secret(String)
        case redacted(keyFile: String)
    }

    public struct Output: Sendable, Equatable {
        public var zebra: String
        public var ospfd: String
    }

    private let zebraTemplate: MustacheTemplate
    private let ospfdTemplate: MustacheTemplate

    public init(templates: Templates) throws(RenderError) {
        do { zebraTemplate = try MustacheTemplate(string: templates.zebra) } catch {
            throw RenderError(template: "zebra.conf", message: "\(error)")
        }
        do { ospfdTemplate = try MustacheTemplate(string: templates.ospfd) } catch {
            throw RenderError(template: "ospfd.conf", message: "\(error)")
        }
    }

    public func render(_ plan: OSPFPlan, key: AuthenticationKey?, version: String, source: String) -> Output {
        let context = Self.context(plan, key: key, version: version, source: source)
        return Output(zebra: zebraTemplate.render(context), ospfd: ospfdTemplate.render(context))
    }

    static func context(_ plan: OSPFPlan, key: AuthenticationKey?, version: String, source: String) -> [String: Any] {
        var authentication: [String: Any]?
        if let keyID = plan.authenticationKeyID, let key {
            switch key {
            case .secret(let text): authentication = ["keyID": keyID, "key": text]
            case .redacted(let file): authentication = ["keyID": keyID, "key": "<redacted: key from \(file)>"]
            }
        }
        return [
            "version": version,
            "source": source,
            "hostname": plan.hostname,
            "routerID": plan.routerID.description,
            "area": plan.area.description,
            "interfaces": plan.interfaces.map { interface -> [String: Any] in
                var entry: [String: Any] = [
                    "name": interface.name, "hello": interface.helloInterval, "dead": interface.deadInterval,
                    "priority": interface.priority, "cost": interface.cost,
                ]
                if let authentication { entry["authentication"] = authentication }
                return entry
            },
            "networks": plan.networks.map(\.description),
            "vips": plan.vips.map(\.description),
            "loopbackCost": plan.loopbackCost,
            "fastConvergence": plan.fastConvergence,
            "maximumPaths": plan.maximumPaths,
        ]
    }
}

public struct RenderError: Error, Sendable, CustomStringConvertible {
    public var template: String
    public var message: String
    public var description: String { "template \(template): \(message)" }
}
