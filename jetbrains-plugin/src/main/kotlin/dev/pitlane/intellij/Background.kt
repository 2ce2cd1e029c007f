package dev.pitlane.intellij

import com.intellij.execution.configurations.GeneralCommandLine
import com.intellij.ide.BrowserUtil
import com.intellij.openapi.application.ApplicationInfo
import com.intellij.openapi.application.ApplicationManager
import com.intellij.openapi.progress.ProcessCanceledException
import com.intellij.openapi.progress.ProgressIndicator
import com.intellij.openapi.progress.Task
import com.intellij.openapi.project.Project
import dev.pitlane.core.MessageType
import dev.pitlane.core.OpenPlan
import dev.pitlane.core.OpenResult
import dev.pitlane.core.ProgressListener
import dev.pitlane.core.ProgressText
import dev.pitlane.core.SessionStatus
import dev.pitlane.core.Tasks
import java.util.concurrent.CancellationException
import java.util.concurrent.CompletableFuture

/** Runs bridge calls as cancellable background tasks that show the bridge's progress. */
object Background {
    /**
     * Runs [call] in a background task titled [title]. Its progress events
     * drive the task's indicator; cancelling the task cancels the request on
     * the bridge. [onSuccess] runs on the UI thread; a failure becomes an
     * error notification with the bridge's message.
     */
    fun <T> run(
        project: Project?,
        title: String,
        call: (ProgressListener) -> CompletableFuture<T>,
        onSuccess: (T) -> Unit = {},
    ) {
        object : Task.Backgroundable(project, title, true) {
            private var result: T? = null

            override fun run(indicator: ProgressIndicator) {
                indicator.isIndeterminate = true
                val text = ProgressText()
                val future = call { ev ->
                    text.apply(ev)
                    indicator.text = text.text
                    indicator.text2 = text.detail
                    text.fraction?.let {
                        indicator.isIndeterminate = false
                        indicator.fraction = it
                    }
                }
                result = try {
                    Tasks.await(future, { indicator.isCanceled })
                } catch (e: CancellationException) {
                    throw ProcessCanceledException()
                }
            }

            override fun onSuccess() {
                @Suppress("UNCHECKED_CAST")
                onSuccess(result as T)
            }

            override fun onThrowable(error: Throwable) {
                PitlaneService.notify(project, "$title failed: ${error.message ?: error.toString()}", MessageType.ERROR)
            }
        }.queue()
    }

    /** The IDE to open workspaces in: the setting, if the bridge offers it, else this IDE's product through Gateway. */
    fun ide(): String? {
        val offered = (PitlaneService.get().session.status as? SessionStatus.Ready)?.info?.ides
        val product = runCatching { ApplicationInfo.getInstance().build.productCode }.getOrNull()
        return Tasks.pickIde(PitlaneSettings.get().state.defaultIde, offered, product)
    }

    /** Carries out a workspace/open answer. */
    fun open(project: Project?, result: OpenResult) {
        when (val plan = OpenPlan.of(result)) {
            is OpenPlan.Browse -> BrowserUtil.browse(plan.uri)
            is OpenPlan.Run -> ApplicationManager.getApplication().executeOnPooledThread {
                try {
                    GeneralCommandLine(plan.argv).createProcess()
                } catch (e: Exception) {
                    PitlaneService.notify(project, "Cannot run ${plan.argv.first()}: ${e.message}", MessageType.ERROR)
                }
            }
            is OpenPlan.Manual -> PitlaneService.notify(project, plan.message)
        }
    }
}
