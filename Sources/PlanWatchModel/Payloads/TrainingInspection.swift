/// `training.inspection`: a patrol of an off-campus training institution (校外培训机构常态巡查,
/// 双减); the same `inspectionId` again updates it (e.g. `status: rectified`).
public struct TrainingInspection: Sendable, Equatable, Codable {
    public static let type = "training.inspection"

    /// 隐形变异培训 (disguised subject training), 有偿补课 (paid tutoring by serving teachers),
    /// 超标超前 (beyond or ahead of the curriculum), 无证办学 (unlicensed), other.
    public enum Violation: String, Sendable, CaseIterable, Codable { case hiddenVariant, paidTutoring, aheadOfCurriculum, unlicensed, other }
    public enum Status: String, Sendable, CaseIterable, Codable { case found, rectifying, rectified }

    public var inspectionId: String
    public var institutionId: String
    public var institutionName: String?
    /// The day of the patrol.
    public var date: LocalDate
    /// What it found; empty: compliant.
    public var violations: [Violation]
    /// Where the violations stand (default `found`); ignored when there are none.
    public var status: Status?
    /// The date they must be rectified by; required when there are violations.
    public var rectifyBy: LocalDate?

    public init(_ r: FieldReader) throws(Rejection) {
        inspectionId = try r.string("inspectionId", length: 1...128)
        institutionId = try r.string("institutionId", length: 1...128)
        institutionName = try r.optionalString("institutionName", length: 0...256)
        date = try r.date("date")
        violations = try r.enumerations("violations", Violation.self, count: 0...5)
        status = try r.optionalEnumeration("status", Status.self)
        rectifyBy = try r.optionalDate("rectifyBy")
        if !violations.isEmpty && rectifyBy == nil {
            throw Rejection(.schemaViolation, "\(r.name("rectifyBy")): required when violations are found (the date they must be rectified by)")
        }
    }

    /// True when it found violations that are not rectified.
    public var isOpen: Bool { !violations.isEmpty && status != .rectified }
}
