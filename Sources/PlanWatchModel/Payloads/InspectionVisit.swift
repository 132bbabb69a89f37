/// `inspection.visit`: an education inspector's visit (督导) to a school or kindergarten;
/// the same `visitId` again updates it (e.g. with `rectifiedOn` once its findings are put right).
public struct InspectionVisit: Sendable, Equatable, Codable {
    public static let type = "inspection.visit"

    /// 办园行为督导评估 (kindergarten conduct), 综合督导 (comprehensive), 专项督导 (thematic).
    public enum InspectionType: String, Sendable, CaseIterable, Codable { case kindergartenConduct, comprehensive, thematic }

    public var visitId: String
    public var schoolId: String
    public var level: SchoolLevel
    public var inspectionType: InspectionType
    /// The day of the visit.
    public var date: LocalDate
    /// Problems found (0: none).
    public var findings: Int64
    /// The date the findings must be rectified by; required when `findings` > 0.
    public var rectifyBy: LocalDate?
    /// The day they were rectified.
    public var rectifiedOn: LocalDate?

    public init(_ r: FieldReader) throws(Rejection) {
        visitId = try r.string("visitId", length: 1...128)
        schoolId = try r.string("schoolId", length: 1...128)
        level = try r.enumeration("level", SchoolLevel.self)
        inspectionType = try r.enumeration("inspectionType", InspectionType.self)
        date = try r.date("date")
        findings = try r.integer("findings", in: 0...1000)
        rectifyBy = try r.optionalDate("rectifyBy")
        rectifiedOn = try r.optionalDate("rectifiedOn")
        if findings > 0 && rectifyBy == nil {
            throw Rejection(.schemaViolation, "\(r.name("rectifyBy")): required when findings > 0 (the date the problems must be rectified by)")
        }
    }
}
