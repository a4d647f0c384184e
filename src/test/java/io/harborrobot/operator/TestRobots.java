package io.harborrobot.operator;

import io.harborrobot.operator.api.v1alpha1.ConnectionKind;
import io.harborrobot.operator.api.v1alpha1.ConnectionRef;
import io.harborrobot.operator.api.v1alpha1.HarborRobot;
import io.harborrobot.operator.api.v1alpha1.HarborRobotSpec;
import io.harborrobot.operator.api.v1alpha1.Preset;

/** HarborRobots for tests. */
public final class TestRobots {

  private TestRobots() {}

  /** A pull robot named {@code name} in project {@code team}, connection "harbor". */
  public static HarborRobot pullRobot(String team, String name) {
    HarborRobot robot = new HarborRobot();
    robot.getMetadata().setName(name);
    robot.getMetadata().setNamespace(team);
    HarborRobotSpec spec = new HarborRobotSpec();
    spec.setConnectionRef(new ConnectionRef(ConnectionKind.HarborConnection, "harbor"));
    spec.setProject(team);
    spec.setPreset(Preset.Pull);
    robot.setSpec(spec);
    return robot;
  }
}
