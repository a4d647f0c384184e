package io.harborrobot.operator;

public class Main {
  public static void main(String[] a) {}
}
