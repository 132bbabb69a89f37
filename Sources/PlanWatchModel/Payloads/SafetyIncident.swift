/// `safety.incident`: a campus safety incident; the same `incidentId` again updates it.
public struct SafetyIncident: Sendable, Equatable, Codable {
    public enum Category: String, Sendable, CaseIterable, Codable {
        case drowning, bullying, foodPoisoning, fire, traffic, schoolBus, infectiousDisease, fraud,
            sexualAbuse, naturalDisaster, buildingSafety, violence, other
    }
    public enum Status: String, Sendable, CaseIterable, Codable { case reported, responding, resolved }

    public var incidentId: String
    public var schoolId: String
    public var category: Category
    public var status: Status
    public var affected: Int64
    public var injured: Int64
    public var deaths: Int64
    public var reportedAt: Timestamp
    public var resolvedAt: Timestamp?
    public var description: String?

    package init(_ r: FieldReader) throws(Rejection) {
        incidentId = try r.string("incidentId", length: 1...128)
        schoolId = try r.string("schoolId", length: 1...128)
        category = try r.enumeration("category", Category.self)
        status = try r.enumeration("status", Status.self)
        affected = try r.integer("affected", in: 0...1_000_000)
        injured = try r.integer("injured", in: 0...1_000_000)
        deaths = try r.integer("deaths", in: 0...1_000_000)
        reportedAt = try r.timestamp("reportedAt")
        resolvedAt = try r.optionalTimestamp("resolvedAt")
        description = try r.optionalString("description", length: 0...2000)
    }
}
