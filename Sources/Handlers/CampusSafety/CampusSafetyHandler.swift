import HandlerKit

/// Campus safety (校园安全): every `safety.incident` raises an alert at the level of the
/// severity table; updates of the same incident change its level; resolution resolves it.
public struct CampusSafetyHandler: Handler {
    /// The plan article the incident alerts cite: the 2023 plan's safety list (000 §22).
    public static let planRef = "City 2023 §22"

    public struct State: Codable, Sendable, Equatable {
        public var alerts = AlertBook()
        public init() {}
    }

    public let severity: SeverityTable

    public init(severity: SeverityTable = SeverityTable()) { self.severity = severity }

    public var name: String { "CampusSafety" }
    public var eventTypes: [String] { [EventType.safetyIncident] }
    public func makeInitialState() -> State { State() }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        guard case .safetyIncident(let incident) = event.payload else { return [] }
        if incident.status == .resolved {
            let fingerprint = "safety.incident/\(incident.incidentId)"
            let at = incident.resolvedAt ?? event.occurredAt
            let summary = "\(incident.schoolId) \(incident.category.chinese)事件(\(incident.incidentId))已处置完毕"
            return [state.alerts.resolve(fingerprint: fingerprint, at: at, causes: [event.id], summary: summary)]
                .compactMap { $0 }
        }
        let level = severity.level(for: incident)
        var summary =
            "\(incident.schoolId) 发生\(incident.category.chinese)事件(\(incident.status.chinese)): "
            + "涉及\(incident.affected)人, 受伤\(incident.injured)人, 死亡\(incident.deaths)人, \(level.chinese)预警"
        if let description = incident.description, !description.isEmpty { summary += " — \(description)" }
        let firing = AlertBook.Firing(
            rule: "safety.incident", subjectKey: incident.incidentId, region: event.region,
            subject: ["incidentId": incident.incidentId, "schoolId": incident.schoolId], level: level,
            summary: summary, planRef: Self.planRef, at: event.occurredAt, causes: [event.id])
        return [state.alerts.fire(firing)].compactMap { $0 }
    }
}
