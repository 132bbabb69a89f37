/// `special.placement`: where a disabled child of compulsory-school age is placed (特殊教育
/// 入学安置); the same `childRef` again moves the child.
public struct SpecialPlacement: Sendable, Equatable, Codable {
    public static let type = "special.placement"

    public enum Disability: String, Sendable, CaseIterable, Codable {
        case visual, hearing, speech, physical, intellectual, mental, multiple, other
    }
    /// 随班就读 (a regular class), 特教学校 (a special school), 送教上门 (teaching delivered at
    /// home), not placed, or exited (moved away, aged out, deceased: no longer counted).
    public enum Placement: String, Sendable, CaseIterable, Codable { case regularClass, specialSchool, homeDelivered, notPlaced, exited }

    /// The child, pseudonymous (never a name or ID card number).
    public var childRef: String
    public var disability: Disability
    public var placement: Placement
    /// The day this placement took effect (or the child was identified unplaced).
    public var date: LocalDate
    /// The school or special school, when placed.
    public var schoolId: String?

    public init(_ r: FieldReader) throws(Rejection) {
        childRef = try r.string("childRef", length: 1...128)
        disability = try r.enumeration("disability", Disability.self)
        placement = try r.enumeration("placement", Placement.self)
        date = try r.date("date")
        schoolId = try r.optionalString("schoolId", length: 1...128)
    }

    /// Placed in school or taught at home: counted as placed (应上尽上).
    public var isPlaced: Bool { placement == .regularClass || placement == .specialSchool || placement == .homeDelivered }
}
