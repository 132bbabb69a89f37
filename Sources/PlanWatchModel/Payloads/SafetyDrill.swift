/// `safety.drill`: an emergency drill held at a school (应急疏散演练); the same `drillId`
/// again is the same drill.
public struct SafetyDrill: Sendable, Equatable, Codable {
    public static let type = "safety.drill"

    public enum Kind: String, Sendable, CaseIterable, Codable { case evacuation, fire, earthquake, other }

    public var drillId: String
    public var schoolId: String
    public var kind: Kind
    /// The day it was held; it counts for the term of that day.
    public var date: LocalDate
    /// Pupils and staff who took part.
    public var participants: Int64

    public init(_ r: FieldReader) throws(Rejection) {
        drillId = try r.string("drillId", length: 1...128)
        schoolId = try r.string("schoolId", length: 1...128)
        kind = try r.enumeration("kind", Kind.self)
        date = try r.date("date")
        participants = try r.integer("participants", in: 1...100_000)
    }
}
