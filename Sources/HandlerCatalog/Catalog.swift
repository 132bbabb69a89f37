import CampusSafety
import CapitalProjects
import Enrolment
import HandlerKit
import IngestMonitor
import Inspection
import OffCampusTraining
import ProvinceRollup
import SafetyPrevention
import SpecialEducation
import StudentAid
import Teachers
// new-handler: imports

/// The built-in handlers, in the order events reach them. This is the one file the
/// `new-handler` plugin edits when it registers a new module.
public enum HandlerCatalog {
    /// One instance of each built-in handler.
    public static func builtIn() -> [any Handler] {
        [
            CapitalProjectsHandler(),
            EnrolmentHandler(),
            CampusSafetyHandler(),
            TeachersHandler(),
            SequenceGapHandler(),
            ProvinceRollupHandler(),
            InspectionHandler(),
            SafetyPreventionHandler(),
            OffCampusTrainingHandler(),
            SpecialEducationHandler(),
            StudentAidHandler(),
            // new-handler: handlers
        ]
    }
}
