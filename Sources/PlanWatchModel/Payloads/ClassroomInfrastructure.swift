/// `infra.classroom`: a school's digital infrastructure as last surveyed (教育信息化装备); each
/// report replaces the school's previous one.
public struct ClassroomInfrastructure: Sendable, Equatable, Codable {
    public static let type = "infra.classroom"

    public var schoolId: String
    /// Classrooms in use.
    public var classrooms: Int64
    /// The bandwidth each classroom is connected with, in Mbit/s.
    public var bandwidthMbps: Int64
    /// Information terminals (computers, tablets) assigned to teachers.
    public var teacherTerminals: Int64
    /// Full-time teachers.
    public var teachers: Int64

    public init(_ r: FieldReader) throws(Rejection) {
        schoolId = try r.string("schoolId", length: 1...128)
        classrooms = try r.integer("classrooms", in: 0...10_000)
        bandwidthMbps = try r.integer("bandwidthMbps", in: 0...1_000_000)
        teacherTerminals = try r.integer("teacherTerminals", in: 0...100_000)
        teachers = try r.integer("teachers", in: 0...100_000)
    }
}
