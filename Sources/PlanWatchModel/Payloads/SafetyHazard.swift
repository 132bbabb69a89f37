/// `safety.hazard`: a safety hazard found at a school (隐患排查), to be rectified by a date;
/// the same `hazardId` again updates it (found → rectifying → rectified).
public struct SafetyHazard: Sendable, Equatable, Codable {
    public static let type = "safety.hazard"

    /// 校舍, 消防, 食品, 校车, 周边 (the school's surroundings), other.
    public enum Kind: String, Sendable, CaseIterable, Codable { case building, fire, food, schoolBus, surroundings, other }
    public enum Status: String, Sendable, CaseIterable, Codable { case found, rectifying, rectified }

    public var hazardId: String
    public var schoolId: String
    public var kind: Kind
    /// The day it was found.
    public var found: LocalDate
    /// The day it must be rectified by (整改时限).
    public var rectifyBy: LocalDate
    public var status: Status
    /// The day it was rectified (default: the event's day).
    public var rectifiedOn: LocalDate?
    public var description: String?

    public init(_ r: FieldReader) throws(Rejection) {
        hazardId = try r.string("hazardId", length: 1...128)
        schoolId = try r.string("schoolId", length: 1...128)
        kind = try r.enumeration("kind", Kind.self)
        found = try r.date("found")
        rectifyBy = try r.date("rectifyBy")
        status = try r.enumeration("status", Status.self)
        rectifiedOn = try r.optionalDate("rectifiedOn")
        description = try r.optionalString("description", length: 0...2000)
    }
}
