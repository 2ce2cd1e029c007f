package dev.pitlane.intellij

import com.intellij.ide.gdpr.ConsentOptions
import com.intellij.ide.plugins.PluginManagerCore
import com.intellij.notification.NotificationGroupManager
import com.intellij.notification.NotificationType
import com.intellij.openapi.Disposable
import com.intellij.openapi.components.Service
import com.intellij.openapi.components.service
import com.intellij.openapi.diagnostic.logger
import com.intellij.openapi.extensions.PluginId
import com.intellij.openapi.project.Project
import dev.pitlane.core.MessageType
import dev.pitlane.core.PitlaneBinary
import dev.pitlane.core.PitlaneSession
import dev.pitlane.core.SessionOptions

/**
 * Holds the IDE's one [PitlaneSession] (one `pitlane bridge` process for
 * all projects) and ends it with the IDE. All behaviour is in the session.
 */
@Service(Service.Level.APP)
class PitlaneService : Disposable {
    private val log = logger<PitlaneService>()

    val session: PitlaneSession = PitlaneSession(
        SessionOptions(
            binary = { PitlaneBinary.resolve(PitlaneSettings.get().state.binaryPath) },
            binaryMissing = { PitlaneBinary.notFoundMessage(PitlaneSettings.get().state.binaryPath) },
            clientVersion = PluginManagerCore.getPlugin(PluginId.getId("dev.pitlane.intellij"))?.version,
            consent = { PitlaneSettings.get().state.telemetryEnabled to ideTelemetryEnabled() },
            log = { log.info("bridge: $it") },
            show = { type, message -> notify(null, message, type) },
        ),
    )

    /** Sends the current telemetry settings to a running bridge. */
    fun sendConsent() {
        session.sendConsent(PitlaneSettings.get().state.telemetryEnabled, ideTelemetryEnabled())
    }

    override fun dispose() = session.close()

    companion object {
        fun get(): PitlaneService = service()

        /** The IDE's own switch for sending usage statistics. */
        fun ideTelemetryEnabled(): Boolean = try {
            ConsentOptions.getInstance().isSendingUsageStatsAllowed == ConsentOptions.Permission.YES
        } catch (e: Throwable) {
            // Without a readable IDE switch, nothing is sent.
            false
        }

        fun notify(project: Project?, message: String, type: Int = MessageType.INFO) {
            val t = when (type) {
                MessageType.ERROR -> NotificationType.ERROR
                MessageType.WARNING -> NotificationType.WARNING
                else -> NotificationType.INFORMATION
            }
            NotificationGroupManager.getInstance().getNotificationGroup("Pitlane").createNotification(message, t).notify(project)
        }
    }
}
