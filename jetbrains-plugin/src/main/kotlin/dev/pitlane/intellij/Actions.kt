package dev.pitlane.intellij

import com.intellij.openapi.actionSystem.ActionUpdateThread
import com.intellij.openapi.actionSystem.AnActionEvent
import com.intellij.openapi.actionSystem.DataKey
import com.intellij.openapi.application.ApplicationManager
import com.intellij.openapi.fileEditor.FileEditorManager
import com.intellij.openapi.project.DumbAwareAction
import com.intellij.openapi.project.Project
import com.intellij.openapi.ui.Messages
import com.intellij.openapi.vfs.LocalFileSystem
import com.intellij.testFramework.LightVirtualFile
import dev.pitlane.core.Presentation
import dev.pitlane.core.Workspace
import java.nio.file.Paths

/** Data keys the tool window provides to its actions. */
object PitlaneKeys {
    /** The workspace selected in the tool window. */
    val WORKSPACE: DataKey<Workspace> = DataKey.create("Pitlane.Workspace")
}

private val session get() = PitlaneService.get().session

/** Find Action / Tools menu: the Create Workspace dialog, then a background create. */
class CreateWorkspaceAction : DumbAwareAction() {
    override fun getActionUpdateThread() = ActionUpdateThread.BGT

    override fun actionPerformed(e: AnActionEvent) {
        val project = e.project
        val dialog = CreateWorkspaceDialog(project)
        if (!dialog.showAndGet()) return
        val params = dialog.params(Background.ide())
        Background.run(project, "Creating workspace", { progress -> session.create(params, progress) }) { result ->
            PitlaneService.notify(project, "Workspace ${result.workspace.name} is running.")
            val open = result.open
            if (open != null) {
                Background.open(project, open)
            } else {
                Background.run(project, "Opening ${result.workspace.name}", { session.open(result.workspace.name, Background.ide()) }) {
                    Background.open(project, it)
                }
            }
        }
    }
}

class RefreshAction : DumbAwareAction() {
    override fun getActionUpdateThread() = ActionUpdateThread.BGT

    override fun actionPerformed(e: AnActionEvent) {
        ApplicationManager.getApplication().executeOnPooledThread { session.refresh() }
    }
}

/** An action on the workspace selected in the tool window. */
abstract class WorkspaceAction : DumbAwareAction() {
    override fun getActionUpdateThread() = ActionUpdateThread.BGT

    protected abstract fun enabled(ws: Workspace): Boolean

    protected abstract fun perform(project: Project?, ws: Workspace)

    override fun update(e: AnActionEvent) {
        val ws = e.getData(PitlaneKeys.WORKSPACE)
        e.presentation.isEnabled = ws != null && enabled(ws)
    }

    override fun actionPerformed(e: AnActionEvent) {
        val ws = e.getData(PitlaneKeys.WORKSPACE) ?: return
        perform(e.project, ws)
    }
}

class OpenAction : WorkspaceAction() {
    override fun enabled(ws: Workspace) = Presentation.canOpen(ws)

    override fun perform(project: Project?, ws: Workspace) =
        Background.run(project, "Opening ${ws.name}", { session.open(ws.name, Background.ide()) }) { Background.open(project, it) }
}

class StartAction : WorkspaceAction() {
    override fun enabled(ws: Workspace) = Presentation.canStart(ws)

    override fun perform(project: Project?, ws: Workspace) =
        Background.run(project, "Starting ${ws.name}", { session.start(ws.name, progress = it) })
}

class StopAction : WorkspaceAction() {
    override fun enabled(ws: Workspace) = Presentation.canStop(ws)

    override fun perform(project: Project?, ws: Workspace) =
        Background.run(project, "Stopping ${ws.name}", { session.stop(ws.name) })
}

class RebuildAction : WorkspaceAction() {
    override fun enabled(ws: Workspace) = Presentation.canRebuild(ws)

    override fun perform(project: Project?, ws: Workspace) =
        Background.run(project, "Rebuilding ${ws.name}", { session.rebuild(ws.name, progress = it) })
}

class DeleteAction : WorkspaceAction() {
    override fun enabled(ws: Workspace) = Presentation.canDelete(ws)

    override fun perform(project: Project?, ws: Workspace) {
        val answer = Messages.showYesNoDialog(
            project,
            "Delete workspace ${ws.name}? Its container, image and Pitlane's data for it are removed; " +
                "files in a local source folder are kept.",
            "Delete Workspace",
            Messages.getWarningIcon(),
        )
        if (answer != Messages.YES) return
        Background.run(project, "Deleting ${ws.name}", { session.delete(ws.name) })
    }
}

class ShowLogAction : WorkspaceAction() {
    override fun enabled(ws: Workspace) = true

    override fun perform(project: Project?, ws: Workspace) {
        if (project == null) return
        Background.run(project, "Reading the log of ${ws.name}", { session.logs(ws.name) }) { logs ->
            val file = logs.path.takeIf { it.isNotEmpty() }?.let { LocalFileSystem.getInstance().refreshAndFindFileByNioFile(Paths.get(it)) }
                ?: LightVirtualFile("${ws.name}.log", logs.lines.orEmpty().joinToString("\n"))
            FileEditorManager.getInstance(project).openFile(file, true)
        }
    }
}
